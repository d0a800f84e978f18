import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowNotFoundError } from '@temporalio/client';
import Stripe from 'stripe';
import fc from 'fast-check';
import { openApiDocument } from '../../src/api/contract';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { createLocalTestEnv } from '../helpers/temporal';
import { startTestIngress, type TestIngress } from '../helpers/ingress';
import { expectContract } from '../helpers/contract';
import { waitUntil } from '../helpers/net';

const SECRET = 'whsec_test_current';
const OLD_SECRET = 'whsec_test_previous';
type Doc = ReturnType<typeof openApiDocument>;

/** The ingress over HTTP against a real Temporal dev server (no worker: starts are only recorded). */
describe('Stripe ingress', () => {
  let env: TestWorkflowEnvironment;
  let ingress: TestIngress;
  let doc: Doc;
  const suiteStart = new Date().toISOString();

  beforeAll(async () => {
    env = await createLocalTestEnv();
    ingress = await startTestIngress(env.client, { secrets: [SECRET, OLD_SECRET] });
    doc = (await (await fetch(`${ingress.url}/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => {
    await ingress?.close();
    await env?.teardown();
  });

  const sign = (payload: string, secret = SECRET, timestamp?: number) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });

  async function post(path: string, body: string | Buffer, headers: Record<string, string>, method = 'POST') {
    const res = await fetch(`${ingress.url}${path}`, { method, headers, body: method === 'GET' ? undefined : body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json as any, headers: res.headers };
  }

  /** Posts a (by default signed) event to the ingress and checks the answer against the OpenAPI document. */
  async function send(
    event: Record<string, unknown>,
    opts: { path?: string; template?: string; secret?: string; signature?: string; contentType?: string; raw?: string } = {},
  ) {
    const payload = opts.raw ?? JSON.stringify(event);
    const path = opts.path ?? '/v1/webhooks/stripe';
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
    const signature = opts.signature ?? sign(payload, opts.secret);
    if (signature) headers['stripe-signature'] = signature;
    const res = await post(path, payload, headers);
    expectContract(doc, 'POST', opts.template ?? path, res.status, res.body, res.headers);
    return res;
  }

  const expectNoRun = async (eventId: string) =>
    expect(env.client.workflow.getHandle(`stripe/${eventId}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  const expectRun = async (eventId: string) => {
    const desc = await env.client.workflow.getHandle(`stripe/${eventId}`).describe();
    expect(desc.type).toBe('stripeEventWorkflow');
    return desc;
  };
  const chargeFailed = (over: Record<string, unknown> = {}) => ({ ...buildTestEvent('charge.failed'), ...over });

  describe('accepts', () => {
    it('a signed event: 200 once the run is started, recording the API version', async () => {
      const event = chargeFailed();
      const res = await send(event);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true, duplicate: false, workflowId: `stripe/${event.id}` });
      const desc = await expectRun(event.id);
      expect(desc.memo).toMatchObject({ apiVersion: event.api_version });
    });

    it('concurrent deliveries of one event as one run', async () => {
      const event = chargeFailed();
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => send(event)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
      // Visibility lags a little behind the start; wait for it, then there must be exactly one.
      const count = async () => (await env.client.workflow.count(`WorkflowId = "stripe/${event.id}"`)).count;
      await waitUntil(async () => (await count()) > 0, 10_000, 'visibility to list the run');
      expect(await count()).toBe(1);
    });

    it('an event signed with the previous secret during a rotation', async () => {
      const event = chargeFailed();
      expect((await send(event, { secret: OLD_SECRET })).status).toBe(200);
      await expectRun(event.id);
    });

    it('on a per-trigger endpoint, its own trigger', async () => {
      const event = chargeFailed();
      const res = await send(event, { path: '/v1/webhooks/stripe.trigger-charge-failed', template: '/v1/webhooks/stripe.trigger-{slug}' });
      expect(res.status).toBe(200);
      await expectRun(event.id);
    });

    it('application/json with a charset, and +json types', async () => {
      const a = chargeFailed();
      expect((await send(a, { contentType: 'application/json; charset=utf-8' })).status).toBe(200);
      const b = chargeFailed();
      expect((await send(b, { contentType: 'application/vnd.stripe+json' })).status).toBe(200);
    });
  });

  describe('acknowledges without a run', () => {
    it('an event type no published recipe uses: 200 {ignored: "no recipe"}', async () => {
      const event = { ...chargeFailed(), type: 'customer.deleted' };
      const res = await send(event);
      expect([res.status, res.body]).toEqual([200, { ignored: 'no recipe' }]);
      await expectNoRun(event.id);
    });

    it.each([
      ['test', true],
      ['live', false],
    ] as const)('with STRIPE_LIVEMODE=%s, an event of the other mode: 200 {ignored: "livemode"}', async (mode, eventLivemode) => {
      const only = await startTestIngress(env.client, { livemode: mode });
      try {
        const event = chargeFailed({ livemode: eventLivemode });
        const payload = JSON.stringify(event);
        const res = await fetch(`${only.url}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload) },
          body: payload,
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ ignored: 'livemode' });
        await expectNoRun(event.id);
        const own = chargeFailed({ livemode: !eventLivemode });
        const ownPayload = JSON.stringify(own);
        const ok = await fetch(`${only.url}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(ownPayload) },
          body: ownPayload,
        });
        expect(await ok.json()).toMatchObject({ received: true });
      } finally {
        await only.close();
      }
    });
  });

  describe('refuses, with the documented status and no run', () => {
    const cases: Array<[string, () => { event: Record<string, unknown>; opts?: Parameters<typeof send>[1] }, number, string]> = [
      ['a content type that is not JSON', () => ({ event: chargeFailed(), opts: { contentType: 'text/plain' } }), 415, 'unsupported_media_type'],
      ['a form-encoded body', () => ({ event: chargeFailed(), opts: { contentType: 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
      ['a missing Stripe-Signature header', () => ({ event: chargeFailed(), opts: { signature: '' } }), 400, 'missing_signature'],
      ['a malformed Stripe-Signature header', () => ({ event: chargeFailed(), opts: { signature: 'sha256=abc' } }), 400, 'malformed_signature'],
      ['a header with a timestamp but no v1', () => ({ event: chargeFailed(), opts: { signature: 't=1700000000,v0=abc' } }), 400, 'malformed_signature'],
      ['a signature from an unknown secret', () => ({ event: chargeFailed(), opts: { secret: 'whsec_forged' } }), 400, 'invalid_signature'],
      [
        'a body changed after signing',
        () => {
          const event = chargeFailed();
          const payload = JSON.stringify(event);
          return { event, opts: { raw: payload.replace('"amount":1999', '"amount":1'), signature: sign(payload) } };
        },
        400,
        'invalid_signature',
      ],
      [
        'a stale timestamp (older than the 300 s tolerance)',
        () => {
          const event = chargeFailed();
          return { event, opts: { signature: sign(JSON.stringify(event), SECRET, Math.floor(Date.now() / 1000) - 301) } };
        },
        400,
        'stale_timestamp',
      ],
      ['a body that is not JSON', () => ({ event: chargeFailed(), opts: { raw: '{"id": "evt_1", "type":' } }), 400, 'invalid_json'],
      ['a JSON array', () => ({ event: chargeFailed(), opts: { raw: '[1,2,3]' } }), 400, 'invalid_json'],
      ['a signed JSON object that is not a Stripe event', () => ({ event: { id: `evt_x${Date.now()}`, type: 'charge.failed' } }), 400, 'invalid_event'],
      [
        'a thin event (v2 event notification)',
        () => ({
          event: {
            id: `evt_thin_${Date.now()}`,
            object: 'v2.core.event',
            type: 'v1.billing.meter.error_report_triggered',
            livemode: false,
            created: '2026-12-03T10:00:00.000Z',
            related_object: { id: 'mtr_1', type: 'billing.meter', url: '/v1/billing/meters/mtr_1' },
          },
          opts: {},
        }),
        400,
        'unsupported_event',
      ],
      [
        'on a per-trigger endpoint, another trigger’s event',
        () => ({
          event: chargeFailed(),
          opts: { path: '/v1/webhooks/stripe.trigger-customer-created', template: '/v1/webhooks/stripe.trigger-{slug}' },
        }),
        400,
        'wrong_trigger',
      ],
      [
        'a per-trigger endpoint with an unknown slug',
        () => ({ event: chargeFailed(), opts: { path: '/v1/webhooks/stripe.trigger-charge-teleported', template: '/v1/webhooks/stripe.trigger-{slug}' } }),
        404,
        'not_found',
      ],
    ];

    it.each(cases)('%s', async (_name, make, status, error) => {
      const { event, opts } = make();
      const res = await send(event, opts ?? {});
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(error);
      expect(res.body.reason).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/whsec_|\n\s+at /);
      await expectNoRun(String(event.id));
    });

    it('a body over 1 MiB: 413', async () => {
      const event = chargeFailed({ padding: 'x'.repeat(1024 * 1024) });
      const res = await send(event);
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('payload_too_large');
      await expectNoRun(String(event.id));
    });

    it('a wrong method: 405 with Allow', async () => {
      const res = await post('/v1/webhooks/stripe', '', {}, 'GET');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expectContract(doc, 'POST', '/v1/webhooks/stripe', 405, res.body);
      const put = await post('/healthz', '{}', { 'content-type': 'application/json' }, 'PUT');
      expect([put.status, put.body.error]).toEqual([405, 'method_not_allowed']);
    });

    it('an unknown path: 404 JSON', async () => {
      const res = await post('/v1/webhooks/stripe/extra', '{}', { 'content-type': 'application/json' });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'not_found', reason: 'No route for POST /v1/webhooks/stripe/extra.' });
    });

    it('a secret removed from the rotation', async () => {
      const rotated = await startTestIngress(env.client, { secrets: [SECRET] });
      try {
        const event = chargeFailed();
        const payload = JSON.stringify(event);
        const res = await fetch(`${rotated.url}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload, OLD_SECRET) },
          body: payload,
        });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'invalid_signature' });
        await expectNoRun(event.id);
      } finally {
        await rotated.close();
      }
    });

    it('a configurable tolerance: 60 s refuses a 2-minute-old signature that 300 s accepts', async () => {
      const strict = await startTestIngress(env.client, { toleranceSeconds: 60 });
      try {
        const event = chargeFailed();
        const payload = JSON.stringify(event);
        const signature = sign(payload, SECRET, Math.floor(Date.now() / 1000) - 120);
        const res = await fetch(`${strict.url}/v1/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body: payload,
        });
        expect(await res.json()).toMatchObject({ error: 'stale_timestamp', reason: expect.stringContaining('tolerance 60 s') });
        expect((await send(event, { signature })).status).toBe(200);
      } finally {
        await strict.close();
      }
    });
  });

  it('never answers 5xx and never starts a run, whatever the body and headers (property)', async () => {
    const since = new Date().toISOString();
    const contentType = fc.oneof(
      fc.constant('application/json'),
      fc.constant('application/json; charset=utf-8'),
      fc.constant('text/plain'),
      fc.constant(''),
      fc.string({ maxLength: 40 }),
    );
    const body = fc.oneof(
      fc.string({ maxLength: 2000 }),
      fc.json({ maxDepth: 4 }),
      // Stripe-shaped objects, but never of a type with a recipe
      fc.record({
        id: fc.string({ maxLength: 30 }),
        object: fc.oneof(fc.constant('event'), fc.constant('v2.core.event'), fc.string({ maxLength: 10 })),
        type: fc.string({ maxLength: 30 }).filter((t) => t !== 'charge.failed'),
        created: fc.oneof(fc.integer(), fc.string({ maxLength: 10 })),
        data: fc.oneof(fc.constant(null), fc.record({ object: fc.oneof(fc.constant(null), fc.dictionary(fc.string({ maxLength: 8 }), fc.json())) })),
      }).map((o) => JSON.stringify(o)),
    );
    const signature = fc.oneof(
      fc.constant('sign-with-secret'),
      fc.constant('sign-with-other'),
      fc.constant('t=1,v1=00'),
      fc.string({ maxLength: 120 }),
    );
    const path = fc.oneof(
      fc.constant('/v1/webhooks/stripe'),
      fc.constant('/v1/webhooks/stripe.trigger-charge-failed'),
      fc.string({ maxLength: 30 }).map((s) => `/v1/webhooks/stripe.trigger-${encodeURIComponent(s)}`),
    );
    await fc.assert(
      fc.asyncProperty(path, contentType, body, signature, fc.boolean(), async (p, ct, b, sig, truncate) => {
        const payload = truncate ? b.slice(0, Math.floor(b.length / 2)) : b;
        const headers: Record<string, string> = {};
        if (ct) headers['content-type'] = ct.replace(/[^\t\x20-\x7e]/g, '');
        const signed = sig === 'sign-with-secret' ? sign(b) : sig === 'sign-with-other' ? sign(b, 'whsec_other') : sig.replace(/[^\t\x20-\x7e]/g, '');
        if (signed) headers['stripe-signature'] = signed;
        const res = await fetch(`${ingress.url}${p}`, { method: 'POST', headers, body: payload });
        const answer = await res.json();
        expect(res.status).toBeLessThan(500);
        expect(answer).not.toHaveProperty('received');
      }),
      { numRuns: 300 },
    );
    await new Promise((r) => setTimeout(r, 1000)); // room for a wrongly started run to be indexed
    const startedSince = async (t: string) => (await env.client.workflow.count(`TaskQueue = "ingress-test" AND StartTime >= "${t}"`)).count;
    expect(await startedSince(since)).toBe(0);
    expect(await startedSince(suiteStart)).toBeGreaterThan(0); // the query does see the runs the other tests started
  });

  describe('operations', () => {
    it('serves a valid OpenAPI 3.1 document of every route', async () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(
        ['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/catalog', '/v1/webhooks/stripe', '/v1/webhooks/stripe.trigger-{slug}'].sort(),
      );
      expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    });

    it('serves the catalog: ten triggers with their endpoints, the Segment and dunning actions, the published recipes', async () => {
      const res = await post('/v1/catalog', '', {}, 'GET');
      expectContract(doc, 'GET', '/v1/catalog', res.status, res.body);
      expect(res.body.triggers.map((t: any) => t.type)).toEqual([
        'charge.failed',
        'checkout.session.completed',
        'customer.created',
        'charge.dispute.created',
        'invoice.paid',
        'invoice.payment_failed',
        'customer.subscription.created',
        'customer.subscription.deleted',
        'payment_intent.succeeded',
        'charge.refunded',
      ]);
      expect(res.body.triggers[0]).toMatchObject({ slug: 'charge-failed', title: 'Charge Failed', endpoint: '/v1/webhooks/stripe.trigger-charge-failed', fields: { type: 'object' } });
      expect(res.body.actions.map((a: any) => a.type)).toEqual(['segment.identify', 'segment.track', 'segment.group', 'segment.alias', 'segment.page', 'segment.screen', 'dunning.open', 'dunning.recover']);
      expect(res.body.actions.find((a: any) => a.type === 'segment.track').fields.required).toContain('event');
      expect(res.body.recipes).toHaveLength(11);
      expect(res.body.recipes.find((r: any) => r.id === 'charge-failed')).toMatchObject({ trigger: 'charge.failed', version: expect.stringMatching(/^[0-9a-f]{12}$/), steps: ['segment.identify', 'segment.track'] });
    });

    it('answers health and readiness as documented', async () => {
      const health = await post('/healthz', '', {}, 'GET');
      expectContract(doc, 'GET', '/healthz', health.status, health.body);
      const ready = await post('/readyz', '', {}, 'GET');
      expect(ready.status).toBe(200);
      expectContract(doc, 'GET', '/readyz', ready.status, ready.body);
      expect(ready.body.recipes).toBeGreaterThan(0);
    });

    it('counts requests by route and outcome, ack latency, starts and duplicates', async () => {
      const event = chargeFailed();
      await send(event);
      await send(event);
      const text = await (await fetch(`${ingress.url}/metrics`)).text();
      const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\d+(\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? NaN);
      expect(value('stripe_segment_http_requests_total\\{route="stripe",status="200",outcome="started"\\}')).toBeGreaterThanOrEqual(1);
      expect(value('stripe_segment_http_requests_total\\{route="stripe",status="200",outcome="duplicate"\\}')).toBeGreaterThanOrEqual(1);
      expect(value('stripe_segment_http_requests_total\\{route="stripe",status="400",outcome="invalid_signature"\\}')).toBeGreaterThanOrEqual(1);
      expect(value('stripe_segment_webhook_ack_seconds_count\\{route="stripe"\\}')).toBeGreaterThanOrEqual(2);
      expect(value('stripe_segment_workflow_starts_total\\{event_type="charge.failed"\\}')).toBeGreaterThanOrEqual(1);
      expect(value('stripe_segment_duplicate_deliveries_total\\{event_type="charge.failed"\\}')).toBeGreaterThanOrEqual(1);
    });

    it('logs one line per request with its request id and Stripe event id, never secrets or payloads', async () => {
      const event = chargeFailed({ data: { object: { ...(buildTestEvent('charge.failed') as any).data.object, receipt_email: 'secret-person@example.com' } } });
      const res = await fetch(`${ingress.url}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': sign(JSON.stringify(event)), 'x-request-id': 'req-abc-123' },
        body: JSON.stringify(event),
      });
      expect(res.headers.get('x-request-id')).toBe('req-abc-123');
      const line = ingress.logs.find((l) => l.requestId === 'req-abc-123');
      expect(line).toMatchObject({ stripeEventId: event.id, stripeEventType: 'charge.failed', status: 200, outcome: 'started' });
      const all = ingress.rawLogs.join('');
      expect(all).not.toContain('whsec_');
      expect(all).not.toContain('secret-person@example.com');
      expect(all).not.toMatch(/"stripe-signature"|t=\d+,v1=/);
    });
  });
});
