import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { majorUnits } from '../recipes/functions';
import type { RecipeSnapshot } from '../recipes/types';
import { SA } from '../temporal/search-attributes';
import { stripeEventWorkflow, type StripeEvent, type StripeEventWorkflowInput } from '../workflows';

/**
 * How every path into the pipeline starts a run: the ingress, `backfill` and the reconciliation
 * Schedule. One id rule (`stripe/<event id>`, never reused), so an event that any of them already
 * started is skipped by the others.
 */
export const stripeWorkflowId = (eventId: string) => `stripe/${eventId}`;

export type LivemodeFilter = 'test' | 'live' | 'both';

/** Whether `STRIPE_LIVEMODE` lets this event through. */
export function livemodeAccepts(filter: LivemodeFilter, event: Pick<StripeEvent, 'livemode'>): boolean {
  if (filter === 'test') return event.livemode !== true;
  if (filter === 'live') return event.livemode === true;
  return true;
}

export function customerOf(event: StripeEvent): string | undefined {
  const obj = event.data.object;
  if (typeof obj.customer === 'string') return obj.customer;
  if (obj.customer && typeof obj.customer === 'object' && typeof (obj.customer as { id?: unknown }).id === 'string') {
    return (obj.customer as { id: string }).id;
  }
  if (obj.object === 'customer' && typeof obj.id === 'string') return obj.id;
  return undefined;
}

const AMOUNT_FIELDS = ['amount', 'amount_total', 'amount_due', 'amount_paid'] as const;

/** `USD 19.99` from the object's amount and currency, when it has them. */
function amountOf(obj: Record<string, unknown>): string | undefined {
  if (typeof obj.currency !== 'string') return undefined;
  for (const field of AMOUNT_FIELDS) {
    const major = majorUnits(obj[field], obj.currency);
    if (major !== undefined) return `${obj.currency.toUpperCase()} ${major}`;
  }
  return undefined;
}

/** The one-line summary the Web UI shows for a run: `charge.failed · cus_123 · USD 19.99 → 2 recipes`. */
export function runSummary(event: StripeEvent, recipes: Pick<RecipeSnapshot, 'id'>[], note?: string): string {
  const obj = event.data.object;
  const parts = [event.type, customerOf(event) ?? (typeof obj.id === 'string' ? obj.id : undefined), amountOf(obj)].filter(Boolean);
  const count = `${recipes.length} recipe${recipes.length === 1 ? '' : 's'}`;
  return `${parts.join(' · ')} → ${count}${note ? ` (${note})` : ''}`;
}

/** The Web UI's details of a run (Temporal markdown): the event and each recipe with its version. */
export function runDetails(event: StripeEvent, recipes: Pick<RecipeSnapshot, 'id' | 'version' | 'trigger'>[], via: string): string {
  return [
    `**Stripe event** \`${event.id}\` (${event.type}, ${event.livemode ? 'live' : 'test'} mode, API ${event.api_version ?? 'unknown'}), via ${via}`,
    '',
    '**Recipes**',
    ...recipes.map((r) => `- \`${r.id}\` version \`${r.version}\``),
  ].join('\n');
}

export interface RunStart {
  event: StripeEvent;
  recipes: RecipeSnapshot[];
  taskQueue: string;
  /** What started it, shown in the details: `webhook`, `backfill`, `reconciliation`, `retry`. */
  via: string;
  /** Overrides the id rule; `runs retry` starts a new run under the same id. */
  workflowIdReusePolicy?: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY';
  /** Ask the server to hand the run straight to the worker sharing the client's connection. */
  eager?: boolean;
}

/** Start options of one run: the id rule, the recipe snapshot, and what the Web UI shows and filters on. */
export function runStartOptions({ event, recipes, taskQueue, via, workflowIdReusePolicy = 'REJECT_DUPLICATE', eager = false }: RunStart) {
  const customer = customerOf(event);
  const objectId = event.data.object.id;
  return {
    taskQueue,
    ...(eager ? { requestEagerStart: true } : {}),
    workflowId: stripeWorkflowId(event.id),
    workflowIdReusePolicy,
    args: [{ event, recipes }] as [StripeEventWorkflowInput],
    typedSearchAttributes: [
      { key: SA.eventType, value: event.type },
      { key: SA.recipeIds, value: recipes.map((r) => r.id) },
      ...(typeof event.livemode === 'boolean' ? [{ key: SA.livemode, value: event.livemode }] : []),
      ...(customer ? [{ key: SA.customerId, value: customer }] : []),
      ...(typeof objectId === 'string' ? [{ key: SA.objectId, value: objectId }] : []),
    ],
    staticSummary: runSummary(event, recipes, via === 'webhook' ? undefined : via),
    staticDetails: runDetails(event, recipes, via),
    memo: {
      apiVersion: event.api_version ?? null,
      via,
      recipes: recipes.map((r) => ({ id: r.id, version: r.version })),
    },
  };
}

/**
 * Starts the run of one event. `duplicate` when a run with its id exists (or existed within the
 * namespace retention): the event was already taken, by this path or another.
 */
export async function startStripeRun(client: Client, start: RunStart): Promise<{ workflowId: string; runId?: string; duplicate: boolean }> {
  const options = runStartOptions(start);
  try {
    const handle = await client.workflow.start(stripeEventWorkflow, options);
    return { workflowId: options.workflowId, runId: handle.firstExecutionRunId, duplicate: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: options.workflowId, duplicate: true };
    throw err;
  }
}
