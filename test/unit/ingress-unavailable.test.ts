import net from 'node:net';
import { createClient } from '../../src/temporal/connection';
import { expectContract } from '../helpers/contract';
import { startTestIngress, type TestIngress } from '../helpers/ingress';
import { freePort } from '../helpers/net';
import { postWebhook, signedEvent } from '../helpers/stripe';
import { openApiDocument } from '../../src/api/contract';

const SECRET = 'whsec_test_current';
const doc = JSON.parse(JSON.stringify(openApiDocument()));

/** A TCP server that accepts connections and never answers: Temporal "slow", not down. */
async function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe.each([
  ['down (connection refused)', async () => ({ port: await freePort(), close: async () => undefined })],
  ['slow (accepts, never answers)', blackHole],
])('Stripe ingress while Temporal is %s', (_name, makeTemporal) => {
  let ingress: TestIngress;
  let temporal: { port: number; close: () => Promise<void> };
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    temporal = await makeTemporal();
    client = createClient({ temporalAddress: `127.0.0.1:${temporal.port}`, TEMPORAL_NAMESPACE: 'default' });
    ingress = await startTestIngress(client, { startTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await ingress.close(); // drains the aborted Temporal calls before the channel closes
    await client.connection.close();
    await temporal.close();
  });

  it('answers 503 with Retry-After within the bounded time, so Stripe retries', async () => {
    const { payload, signature } = signedEvent(SECRET);
    const t0 = Date.now();
    const res = await postWebhook(`${ingress.url}/v1/webhooks/stripe`, payload, signature);
    const elapsed = Date.now() - t0;
    const body = await res.json();
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(body).toMatchObject({ error: 'temporal_unavailable' });
    expectContract(doc, 'POST', '/v1/webhooks/stripe', 503, body, res.headers);
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(3000);
  });

  it('is live but not ready', async () => {
    expect((await fetch(`${ingress.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${ingress.url}/readyz`);
    const body = await ready.json();
    expect(ready.status).toBe(503);
    expect(body).toMatchObject({ error: 'not_ready' });
    expectContract(doc, 'GET', '/readyz', 503, body);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight webhook finish and answer before the ingress stops', async () => {
    const temporal = await blackHole();
    const client = createClient({ temporalAddress: `127.0.0.1:${temporal.port}`, TEMPORAL_NAMESPACE: 'default' });
    const ingress = await startTestIngress(client, { startTimeoutMs: 1000 });
    const { payload, signature } = signedEvent(SECRET);
    const inFlight = postWebhook(`${ingress.url}/v1/webhooks/stripe`, payload, signature);
    await new Promise((r) => setTimeout(r, 200)); // the request is now waiting on Temporal
    let closed = false;
    const closing = ingress.close().then(() => (closed = true));
    const res = await inFlight;
    expect(res.status).toBe(503); // answered, not reset
    expect(closed).toBe(false); // the stop waited for the request
    await closing;
    // After close, new connections are refused.
    await expect(fetch(`${ingress.url}/healthz`)).rejects.toThrow();
    await client.connection.close();
    await temporal.close();
  });
});
