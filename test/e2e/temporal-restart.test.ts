import { existsSync, mkdtempSync } from 'node:fs';
import { loadConfig } from '../../src/config';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { createClient } from '../../src/temporal/connection';
import { ensureNamespaceSetup } from '../../src/temporal/namespace-setup';
import { startTestIngress } from '../helpers/ingress';
import { freePort, waitUntil } from '../helpers/net';
import { postWebhook, signedEvent } from '../helpers/stripe';

const SECRET = 'whsec_test_current';

/**
 * The embedded dev server is stopped and restarted on the same SQLite file while the ingress
 * keeps running: events are refused with 503 while it is down (Stripe retries), accepted once it
 * is back, and runs accepted before the outage are still there.
 */
describe('Temporal stopped and restarted under a running ingress', () => {
  it('answers 503 while Temporal is down, then accepts the same event after the restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-restart-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    const opts = { dataDir, namespace: 'default', port, uiPort, logger: pino({ level: 'silent' }), sqlitePragmas: loadConfig({}).TEMPORAL_SQLITE_PRAGMAS };
    let server: DevServer = await startDevServer(opts);
    // The default pragmas put the database in WAL mode (a -wal file beside it while it runs).
    expect(existsSync(path.join(dataDir, 'temporal.sqlite-wal'))).toBe(true);
    const client = createClient({ temporalAddress: server.address, TEMPORAL_NAMESPACE: 'default' });
    await ensureNamespaceSetup(client.connection, 'default');
    const ingress = await startTestIngress(client, { startTimeoutMs: 2000 });
    const url = `${ingress.url}/v1/webhooks/stripe`;
    try {
      const before = signedEvent(SECRET);
      expect((await postWebhook(url, before.payload, before.signature)).status).toBe(200);

      await server.stop();
      const during = signedEvent(SECRET);
      const refused = await postWebhook(url, during.payload, during.signature);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();

      server = await startDevServer(opts);
      // Stripe retries the same delivery (same body and signature) until it is acknowledged.
      let status = 0;
      await waitUntil(
        async () => {
          status = (await postWebhook(url, during.payload, during.signature)).status;
          return status === 200;
        },
        30_000,
        'the retried delivery to be accepted',
      );
      expect(status).toBe(200);

      for (const id of [before.event.id, during.event.id]) {
        const desc = await client.workflow.getHandle(`stripe/${id}`).describe();
        expect(desc.type).toBe('stripeEventWorkflow');
      }
      // And a further retry of the event accepted before the outage is still a duplicate.
      expect(await (await postWebhook(url, before.payload, before.signature)).json()).toMatchObject({ duplicate: true });
    } finally {
      await ingress.close();
      await client.connection.close();
      await server.stop();
    }
  });
});
