import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { Analytics } from '@segment/analytics-node';
import { createSegmentActivities, messageIdFor, type ActionInput } from '../../src/activities/segment';
import { startCaptureSink, type CaptureSink, type SinkResponse } from '../../src/segment/capture-sink';
import { createAnalytics } from '../../src/segment/client';
import { freePort } from '../helpers/net';

const integration = { name: 'stripe-segment', version: 'test' };

function input(over: { type?: string; fields?: Record<string, unknown>; seed?: string } = {}): ActionInput {
  return {
    type: over.type ?? 'segment.identify',
    fields: over.fields ?? { userId: 'cus_1', traits: { email: 'a@example.com' } },
    meta: {
      idempotencySeed: over.seed ?? 'evt_1/recipe/0',
      timestamp: '2026-01-02T03:04:05.000Z',
      stripeEventId: 'evt_1',
      stripeEventType: 'charge.failed',
      where: 'recipe r step 0 (segment.identify)',
    },
  };
}

describe('segmentCall activity', () => {
  let sink: CaptureSink;
  let analytics: Analytics;
  let answers: SinkResponse[] = [];
  // Expected failures are asserted below; keep the SDK's activity logger quiet.
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR', () => undefined) });
  let call: (i: ActionInput) => Promise<unknown>;

  beforeEach(async () => {
    answers = [];
    sink = await startCaptureSink({ respond: () => answers.shift() });
    analytics = createAnalytics({ writeKey: 'wk_test', host: sink.url, flushIntervalMs: 20 });
    const acts = createSegmentActivities({ analytics, integration });
    call = (i) => env.run(acts.segmentCall, i);
  });
  afterEach(async () => {
    await analytics.closeAndFlush({ timeout: 2000 });
    await sink.close();
  });

  it('completes only once Segment has accepted the message, with a deterministic messageId', async () => {
    const result = await call(input());
    // Delivery is confirmed before the activity returns: the sink already holds the message.
    expect(sink.messages).toHaveLength(1);
    const [m] = sink.messages;
    expect(result).toEqual({ type: 'segment.identify', messageId: m!.messageId, userId: 'cus_1' });
    expect(m).toMatchObject({ type: 'identify', userId: 'cus_1', traits: { email: 'a@example.com' }, timestamp: '2026-01-02T03:04:05.000Z' });
    expect(m!.context).toMatchObject({ integration, stripe: { event_id: 'evt_1', event_type: 'charge.failed' } });
    expect(m!.messageId).toBe(messageIdFor('evt_1/recipe/0'));
    expect(messageIdFor('evt_1/recipe/0')).toBe(messageIdFor('evt_1/recipe/0'));
    expect(messageIdFor('evt_1/recipe/1')).not.toBe(m!.messageId);
    expect(sink.requests[0]!.writeKey).toBe('wk_test');
  });

  it.each([500, 503, 429])('fails retryably on HTTP %i so Temporal retries', async (status) => {
    answers.push({ status });
    const err = await call(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: false, type: 'SegmentUnavailable' });
    expect((err as Error).message).toContain(`[${status}]`);
    expect(sink.messages).toHaveLength(0);
  });

  it.each([
    [400, /Segment rejected the identify call: HTTP \[400\]/],
    [401, /HTTP \[401\].*Check SEGMENT_WRITE_KEY/],
    [403, /HTTP \[403\].*Check SEGMENT_WRITE_KEY/],
  ])('fails for good on HTTP %i with the reason', async (status, message) => {
    answers.push({ status });
    const err = await call(input()).catch((e: unknown) => e);
    expect(err).toMatchObject({ nonRetryable: true, type: 'SegmentRejected' });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^recipe r step 0/);
  });

  it('fails retryably when Segment cannot be reached', async () => {
    const port = await freePort();
    const down = createAnalytics({ writeKey: 'wk', host: `http://127.0.0.1:${port}`, flushIntervalMs: 10 });
    const acts = createSegmentActivities({ analytics: down, integration });
    const err = await env.run(acts.segmentCall, input()).catch((e: unknown) => e);
    expect(err).toMatchObject({ nonRetryable: false, type: 'SegmentUnavailable' });
    await down.closeAndFlush({ timeout: 1000 });
  });

  it.each([
    ['segment.identify', { traits: { email: 'x@example.com' } }, /identify needs userId or anonymousId/],
    ['segment.track', { userId: 'cus_1', properties: {} }, /segment\.track input is invalid at "event"/],
    ['segment.group', { userId: 'cus_1' }, /segment\.group input is invalid at "groupId"/],
    ['segment.alias', { userId: 'cus_1' }, /segment\.alias input is invalid at "previousId"/],
    ['segment.page', { name: 'Pricing' }, /page needs userId or anonymousId/],
    ['segment.track', { userId: 'cus_1', event: 'X', colour: 'red' }, /Unrecognized key: "colour"/],
  ])('refuses, for good and naming the field, a %s mapping output that breaks the Segment Spec', async (type, fields, message) => {
    const err = await call(input({ type, fields })).catch((e: unknown) => e);
    expect(err).toMatchObject({ nonRetryable: true, type: 'InvalidMappingOutput' });
    expect((err as Error).message).toMatch(message);
    expect(sink.requests).toHaveLength(0);
  });

  it.each([
    ['segment.track', { anonymousId: 'anon-1', event: 'Order Completed', properties: { total: 19.99 } }, { type: 'track', event: 'Order Completed' }],
    ['segment.group', { userId: 'cus_1', groupId: 'acct_1', traits: { name: 'ACME' } }, { type: 'group', groupId: 'acct_1' }],
    ['segment.alias', { userId: 'cus_1', previousId: 'anon-1' }, { type: 'alias', previousId: 'anon-1' }],
    ['segment.page', { userId: 'cus_1', name: 'Receipt' }, { type: 'page', name: 'Receipt' }],
    ['segment.screen', { userId: 'cus_1', name: 'Billing' }, { type: 'screen', name: 'Billing' }],
  ])('sends %s as its Segment call', async (type, fields, expected) => {
    await call(input({ type, fields }));
    expect(sink.messages[0]).toMatchObject({ ...expected, messageId: messageIdFor('evt_1/recipe/0'), timestamp: '2026-01-02T03:04:05.000Z' });
  });

  it('refuses a message over 32 KB before sending it', async () => {
    const err = await call(input({ fields: { userId: 'cus_1', traits: { blob: 'x'.repeat(33 * 1024) } } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ nonRetryable: true, type: 'MessageTooLarge' });
    expect(sink.requests).toHaveLength(0);
  });

  it('lets concurrent activities share one batch request', async () => {
    const n = 20;
    await Promise.all(Array.from({ length: n }, (_, i) => call(input({ seed: `evt_${i}/r/0`, fields: { userId: `cus_${i}` } }))));
    expect(sink.messages).toHaveLength(n);
    expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(n);
    expect(sink.requests.length).toBeLessThan(n / 4);
  });
});
