import type Stripe from 'stripe';

/** Marks the endpoints this tool manages, so status can tell them from hand-made ones. */
const MANAGED_BY = 'stripe-segment';

export interface RegisterResult {
  action: 'created' | 'updated' | 'unchanged';
  endpoint: Stripe.WebhookEndpoint;
  /** Only on creation: Stripe shows an endpoint's signing secret once. */
  secret?: string;
  /** Other endpoints with the same URL, made before (by hand or by another tool); left alone. */
  duplicates: string[];
}

async function endpointsFor(stripe: Stripe, url: string): Promise<Stripe.WebhookEndpoint[]> {
  const found: Stripe.WebhookEndpoint[] = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) {
    if (sameUrl(endpoint.url, url)) found.push(endpoint);
  }
  return found;
}

/** Stripe keeps the URL as given; a trailing slash or letter case in the host is the same endpoint. */
function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const p = new URL(u);
      return `${p.protocol}//${p.host.toLowerCase()}${p.pathname.replace(/\/+$/, '')}${p.search}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

const sameEvents = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Creates the webhook endpoint for `url` with exactly these events, or updates the one that
 * exists for it: never a second endpoint for one URL (Stripe allows 16 per account).
 */
export async function registerWebhook(stripe: Stripe, url: string, events: string[]): Promise<RegisterResult> {
  if (events.length === 0) throw new Error('No published recipe: there is no event to subscribe to.');
  const [existing, ...duplicates] = await endpointsFor(stripe, url);
  if (!existing) {
    const endpoint = await stripe.webhookEndpoints.create({
      url,
      enabled_events: events as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
      description: 'stripe-segment: Stripe events to Segment',
      metadata: { managed_by: MANAGED_BY },
    });
    return { action: 'created', endpoint, ...(endpoint.secret ? { secret: endpoint.secret } : {}), duplicates: [] };
  }
  if (sameEvents(existing.enabled_events, events)) return { action: 'unchanged', endpoint: existing, duplicates: duplicates.map((d) => d.id) };
  const endpoint = await stripe.webhookEndpoints.update(existing.id, {
    enabled_events: events as Stripe.WebhookEndpointUpdateParams.EnabledEvent[],
    metadata: { managed_by: MANAGED_BY },
  });
  return { action: 'updated', endpoint, duplicates: duplicates.map((d) => d.id) };
}

export interface EndpointStatus {
  id: string;
  url: string;
  status: string;
  enabledEvents: string[];
  managed: boolean;
  /** Published triggers this endpoint does not send: their events never reach the ingress. */
  missing: string[];
}

/** The account's webhook endpoints (or those for `url`), each with the triggers it lacks. */
export async function webhookStatus(stripe: Stripe, triggers: string[], url?: string): Promise<EndpointStatus[]> {
  const endpoints = url ? await endpointsFor(stripe, url) : await stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
  return endpoints.map((e) => ({
    id: e.id,
    url: e.url,
    status: e.status,
    enabledEvents: e.enabled_events,
    managed: e.metadata?.managed_by === MANAGED_BY,
    missing: e.enabled_events.includes('*') ? [] : triggers.filter((t) => !e.enabled_events.includes(t)),
  }));
}
