import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { createIngress } from '../../src/api/app';
import { loadRecipes } from '../../src/recipes/loader';
import { createClient } from '../../src/temporal/connection';
import { freePort } from '../helpers/net';
import { postWebhook, signedEvent } from '../helpers/stripe';
import Stripe from 'stripe';

// The ingress over real HTTP, with Temporal unreachable: everything that must be decided before
// (or without) a durable start.
describe('Stripe ingress without a reachable Temporal', () => {
  const secret = 'whsec_unit_current';
  const previous = 'whsec_unit_previous';
  let server: Server;
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const port = await freePort(); // nothing listens here
    const client = createClient({ temporalAddress: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: 'default' });
    const ingress = createIngress({
      client,
      taskQueue: 'q',
      recipes: () => loadRecipes(path.resolve('recipes')),
      secrets: [secret, previous],
      logger: pino({ level: 'silent' }),
      startTimeoutMs: 2000,
    });
    server = ingress.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      await new Promise((r) => server.close(r));
      await ingress.drain(); // closing the channel under a pending gRPC retry would throw
      await client.connection.close();
    };
  });
  afterAll(() => close());

  it('answers 503 with Retry-After, within the bounded time, when the start cannot be made durable', async () => {
    const { payload, signature } = signedEvent(secret);
    const t0 = Date.now();
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload, signature);
    const elapsed = Date.now() - t0;
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ error: 'temporal_unavailable' });
    expect(elapsed).toBeLessThan(4000);
  });

  it('accepts a signature made with the previous secret during rotation', async () => {
    const { payload, signature } = signedEvent(previous);
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload, signature);
    expect(res.status).toBe(503); // verified, then refused only because Temporal is down
  });

  it('answers 400 with a reason, never the secret, for a bad signature', async () => {
    const { payload, signature } = signedEvent('whsec_someone_else');
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload, signature);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toEqual({ error: 'invalid_signature', reason: expect.stringMatching(/No signatures found matching the expected signature/) });
    expect(JSON.stringify(body)).not.toContain(secret);
  });

  it('answers 400 for a body changed after signing', async () => {
    const { payload, signature } = signedEvent(secret);
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload.replace('cus_', 'cus_X'), signature);
    expect(res.status).toBe(400);
  });

  it('answers 400 for a stale timestamp (replay protection, 300 s)', async () => {
    const { payload } = signedEvent(secret);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 301 });
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload, signature);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/Timestamp outside the tolerance zone/);
  });

  it('answers 400 when the Stripe-Signature header is missing', async () => {
    const { payload } = signedEvent(secret);
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'missing_signature', reason: 'The Stripe-Signature header is required.' });
  });

  it('ignores, with 200, an event type no published recipe uses', async () => {
    const { payload: chargePayload } = signedEvent(secret);
    const payload = chargePayload.replace('"type":"charge.failed"', '"type":"customer.deleted"');
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const res = await postWebhook(`${url}/v1/webhooks/stripe`, payload, signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ignored: 'no recipe' });
  });

  it('reports live but not ready', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ok: false, error: 'temporal_unreachable' });
  });
});
