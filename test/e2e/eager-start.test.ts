import { Client, Connection } from '@temporalio/client';
import { launchApp, type RunningApp } from '../helpers/app';
import { postWebhook, signedEvent } from '../helpers/stripe';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCaptureSink, type CaptureSink } from '../../src/segment/capture-sink';
import { messageIdFor } from '../../src/activities/segment';
import { waitUntil } from '../helpers/net';

// TEMPORAL_EAGER_START=true: the ingress starts runs over the in-process worker's connection and
// asks for eager start. The option is off by default (bench/README.md); it must still work.
describe('eager workflow start in one process', () => {
  let app: RunningApp;
  let sink: CaptureSink;
  let client: Client;

  beforeAll(async () => {
    sink = await startCaptureSink();
    app = await launchApp({ TEMPORAL_EAGER_START: 'true', SEGMENT_WRITE_KEY: 'wk_eager', SEGMENT_HOST: sink.url });
    client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${app.temporalPort}` }) });
  });
  afterAll(async () => {
    await app?.stop();
    await client?.connection.close();
    await sink?.close();
  });

  it('acks, runs and delivers; a duplicate delivery is still a duplicate', async () => {
    const secret = readFileSync(path.join(app.dataDir, 'stripe-webhook-secret'), 'utf8').trim();
    const { event, payload, signature } = signedEvent(secret, 'charge.failed', { customer: 'cus_eager' });
    const url = `${app.base}/v1/webhooks/stripe`;
    const first = await postWebhook(url, payload, signature);
    expect(await first.json()).toEqual({ received: true, duplicate: false, workflowId: `stripe/${event.id}` });
    const again = await postWebhook(url, payload, signature);
    expect(await again.json()).toMatchObject({ duplicate: true });
    const result = await client.workflow.getHandle(`stripe/${event.id}`).result();
    expect(result.recipes.map((r: { outcome: string }) => r.outcome)).toEqual(['delivered']);
    const ids = [0, 1].map((i) => messageIdFor(`${event.id}/charge-failed/${i}`));
    await waitUntil(() => ids.every((id) => sink.messages.some((m) => m.messageId === id)), 10_000, 'both messages');
  });
});
