import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Analytics } from '@segment/analytics-node';
import { createActivities } from '../../src/activities';
import { messageIdFor } from '../../src/activities/segment';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { loadRecipes } from '../../src/recipes/loader';
import type { RecipeSnapshot } from '../../src/recipes/types';
import { startCaptureSink, type CaptureSink, type SinkResponse } from '../../src/segment/capture-sink';
import { createAnalytics } from '../../src/segment/client';
import { ensureNamespaceSetup, MIN_RETENTION_SECONDS } from '../../src/temporal/namespace-setup';
import { stripeEventWorkflow, type StripeEvent } from '../../src/workflows';
import { createLocalTestEnv } from '../helpers/temporal';
import { startStripeMock, type StripeMock } from '../helpers/stripe-mock';
import { createStripeClient } from '../../src/activities/stripe';
import { createOpenAIClient } from '../../src/activities/openai';
import { startOpenAIStandIn, type OpenAIStandIn } from '../helpers/openai-standin';
import { anonymousId } from '../../src/recipes/functions';

const taskQueue = 'test-stripe-event';
const [chargeFailedRecipe] = loadRecipes(path.resolve('recipes')).forEventType('charge.failed');
const RECIPE = 'charge-failed';
const testRecipe = (id: string, version: string, steps: RecipeSnapshot['steps']): RecipeSnapshot => ({ id, name: id, version, trigger: 'charge.failed', steps });

describe('stripeEventWorkflow on a real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let sink: CaptureSink;
  let analytics: Analytics;
  let worker: Worker;
  let running: Promise<void>;
  let answers: SinkResponse[] = [];
  let stripeMock: StripeMock;
  let openai: OpenAIStandIn;

  beforeAll(async () => {
    env = await createLocalTestEnv();
    stripeMock = await startStripeMock();
    openai = await startOpenAIStandIn({ apiKey: 'sk-test', fallback: { content: JSON.stringify({ urgency: 'high', cause: 'fraud' }) } });
    sink = await startCaptureSink({ respond: () => answers.shift() });
    analytics = createAnalytics({ writeKey: 'wk_wf', host: sink.url, flushIntervalMs: 20 });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      activities: createActivities({
        analytics,
        integration: { name: 'stripe-segment', version: 'test' },
        stripe: createStripeClient('sk_test_123', stripeMock.url),
        openai: createOpenAIClient('sk-test', openai.url, 2000),
      }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await analytics?.closeAndFlush({ timeout: 2000 });
    await sink?.close();
    await stripeMock?.stop();
    await openai?.close();
    await env?.teardown();
  });

  beforeEach(() => {
    openai.replies.length = 0;
    openai.requests.length = 0;
    answers = [];
    sink.messages.length = 0;
    sink.requests.length = 0;
  });

  const run = (event: StripeEvent, recipes: RecipeSnapshot[]) =>
    env.client.workflow.execute(stripeEventWorkflow, {
      taskQueue,
      workflowId: `stripe/${event.id}`,
      args: [{ event, recipes }],
    });

  const newEvent = (customer = `cus_${randomUUID().slice(0, 8)}`) =>
    buildTestEvent('charge.failed', { customer }) as unknown as StripeEvent;

  it('identifies the customer in Segment and records recipe, version and messageId', async () => {
    const event = newEvent('cus_wf_1');
    const result = await run(event, [chargeFailedRecipe!]);
    const identifyId = messageIdFor(`${event.id}/${RECIPE}/0`);
    const trackId = messageIdFor(`${event.id}/${RECIPE}/1`);
    expect(result).toEqual({
      eventId: event.id,
      recipes: [
        {
          recipeId: RECIPE,
          version: chargeFailedRecipe!.version,
          outcome: 'delivered',
          steps: [
            { step: 0, type: 'segment.identify', messageId: identifyId },
            { step: 1, type: 'segment.track', messageId: trackId },
          ],
        },
      ],
    });
    expect(sink.messages).toHaveLength(2);
    expect(sink.messages[0]).toMatchObject({ type: 'identify', userId: 'cus_wf_1', messageId: identifyId });
    expect(sink.messages[1]).toMatchObject({ type: 'track', event: 'Payment Failed', userId: 'cus_wf_1', messageId: trackId });
  });

  it('rides out a Segment outage with retries and delivers once', async () => {
    answers.push({ status: 500 }, { status: 503 });
    const event = newEvent();
    await run(event, [chargeFailedRecipe!]);
    // The identify is retried through the outage; the track follows once it is delivered.
    expect(sink.requests.map((r) => r.status)).toEqual([500, 503, 200, 200]);
    // The same messageId on every attempt, so Segment can dedup.
    expect(new Set(sink.requests.slice(0, 3).map((r) => r.messages[0]!.messageId)).size).toBe(1);
    expect(sink.messages.map((m) => m.type)).toEqual(['identify', 'track']);
  });

  it('fails the run without retrying when Segment rejects the write key', async () => {
    answers.push({ status: 401 });
    const event = newEvent();
    const err = await run(event, [chargeFailedRecipe!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('RecipeFailed');
    expect(cause.message).toMatch(/1 of 1 recipe\(s\) failed for charge\.failed/);
    expect(cause.message).toMatch(/charge-failed: .*HTTP \[401\].*Check SEGMENT_WRITE_KEY/);
    expect(sink.requests).toHaveLength(1);
  });

  it('runs recipes independently: one failing recipe does not stop the others', async () => {
    const broken = testRecipe('broken', 'v0', [{ kind: 'action', type: 'segment.identify', activity: 'segmentCall', map: { traits: "{ 'x': 1 }" } }]);
    const event = newEvent('cus_wf_2');
    const err = (await run(event, [broken, chargeFailedRecipe!]).catch((e: unknown) => e)) as WorkflowFailedError;
    const cause = err.cause as ApplicationFailure;
    expect(cause.message).toMatch(/^1 of 2 recipe\(s\) failed .*broken: recipe broken@v0 step 0 \(segment\.identify\): .*identify needs userId or anonymousId/);
    const [details] = cause.details as [{ recipes: Array<{ recipeId: string; outcome: string }> }];
    expect(details.recipes.map((r) => [r.recipeId, r.outcome])).toEqual([
      ['broken', 'failed'],
      [RECIPE, 'delivered'],
    ]);
    expect(sink.messages.map((m) => m.userId)).toEqual(['cus_wf_2', 'cus_wf_2']);
  });

  it('records a filtered recipe with its filter, and sends nothing for it', async () => {
    const filtered = testRecipe('big-only', 'v1', [
      { kind: 'filter', type: 'filter', if: 'event.data.object.amount >= 100000' },
      { kind: 'action', type: 'segment.track', activity: 'segmentCall', map: { userId: "'x'", event: "'Big'" } },
    ]);
    const event = newEvent();
    const result = await run(event, [filtered]);
    expect(result.recipes).toEqual([
      { recipeId: 'big-only', version: 'v1', outcome: 'filtered', filter: 'event.data.object.amount >= 100000', step: 0, steps: [] },
    ]);
    expect(sink.requests).toHaveLength(0);
  });

  it('looks up the disputed charge in Stripe (stripe-mock) before tracking "Dispute Created"', async () => {
    const [dispute] = loadRecipes(path.resolve('recipes')).forEventType('charge.dispute.created');
    const event = buildTestEvent('charge.dispute.created') as unknown as StripeEvent;
    const result = await run(event, [dispute!]);
    // Without OPENAI_API_KEY the AI step is skipped and the "needs attention" filter stops the rest.
    expect(result.recipes[0]).toMatchObject({
      outcome: 'filtered',
      steps: [
        { type: 'stripe.lookup', lookup: 'found' },
        { type: 'stripe.lookup', lookup: 'no id' },
        { type: 'classify', skipped: 'no OPENAI_API_KEY' },
        { type: 'segment.track' },
      ],
    });
    // stripe-mock's charge has no customer and no email: the payer is anonymous, from the payment.
    expect(sink.messages[0]).toMatchObject({ type: 'track', event: 'Dispute Created', anonymousId: anonymousId((event.data.object as any).payment_intent) });
  });

  describe('classify (the AI step)', () => {
    const [aiDispute] = loadRecipes(path.resolve('recipes'), { openai: true, defaultModel: 'gpt-test' }).forEventType('charge.dispute.created');

    it('puts the model’s fields, model and token usage in history, and honours Retry-After on 429', async () => {
      openai.replies.push({ status: 429, headers: { 'retry-after': '1' } });
      const event = buildTestEvent('charge.dispute.created') as unknown as StripeEvent;
      const result = await run(event, [aiDispute!]);
      expect(openai.requests).toHaveLength(2);
      expect(openai.requests[1]!.at - openai.requests[0]!.at).toBeGreaterThanOrEqual(950);
      expect(openai.requests.every((r) => r.problems.length === 0)).toBe(true);
      expect(result.recipes[0]).toMatchObject({
        outcome: 'delivered',
        steps: [
          { type: 'stripe.lookup' },
          { type: 'stripe.lookup' },
          { type: 'classify', ai: { urgency: 'high', cause: 'fraud' }, model: 'gpt-test-standin', usage: { total_tokens: 132 } },
          { type: 'segment.track' },
          { type: 'segment.track' },
        ],
      });
      expect(sink.messages.map((m) => [m.event, (m.properties as any).urgency, (m.properties as any).likely_cause])).toEqual([
        ['Dispute Created', 'high', 'fraud'],
        ['Dispute Needs Attention', 'high', 'fraud'],
      ]);
    });

    it('a low urgency is filtered before "Dispute Needs Attention"', async () => {
      openai.replies.push({ content: JSON.stringify({ urgency: 'low', cause: 'duplicate' }) });
      const event = buildTestEvent('charge.dispute.created') as unknown as StripeEvent;
      const result = await run(event, [aiDispute!]);
      expect(result.recipes[0]).toMatchObject({ outcome: 'filtered', filter: "ai.urgency = 'high'", step: 4 });
      expect(sink.messages.map((m) => m.event)).toEqual(['Dispute Created']);
    });

    it('a reply that keeps failing the schema fails that recipe only; the others go on', async () => {
      openai.replies.push({ content: '{"urgency":"extreme"}' }, { content: 'not json' });
      const other = testRecipe('also-on-disputes', 'v1', [
        { kind: 'action', type: 'segment.track', activity: 'segmentCall', map: { anonymousId: "'a1'", event: "'Dispute Seen'" } },
      ]);
      const event = buildTestEvent('charge.dispute.created') as unknown as StripeEvent;
      const err = (await run(event, [aiDispute!, other]).catch((e: unknown) => e)) as WorkflowFailedError;
      const cause = err.cause as ApplicationFailure;
      expect(cause.message).toMatch(/1 of 2 recipe\(s\) failed .*dispute-created: .*step 2 \(classify\): the model's reply failed the output schema twice/);
      expect(openai.requests).toHaveLength(2); // asked once more, then not retried
      expect(sink.messages.map((m) => m.event)).toEqual(['Dispute Seen']);
    });

    it('an optional classify step without OPENAI_API_KEY is skipped and recorded', async () => {
      const [noKey] = loadRecipes(path.resolve('recipes')).forEventType('charge.dispute.created');
      const event = buildTestEvent('charge.dispute.created') as unknown as StripeEvent;
      const result = await run(event, [noKey!]);
      expect(result.recipes[0]).toMatchObject({ outcome: 'filtered', steps: [{}, {}, { type: 'classify', skipped: 'no OPENAI_API_KEY' }, { type: 'segment.track' }] });
      expect(openai.requests).toHaveLength(0);
    });
  });

  it('sets up the namespace: search attributes and at least 72 h retention, idempotently', async () => {
    const first = await ensureNamespaceSetup(env.connection, 'default');
    expect(first.retentionSeconds).toBeGreaterThanOrEqual(MIN_RETENTION_SECONDS);
    const described = await env.connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBeGreaterThanOrEqual(72 * 3600);
    const attrs = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['StripeEventType', 'StripeCustomerId', 'StripeObjectId', 'StripeLivemode', 'RecipeIds', 'Outcome']),
    );
    const second = await ensureNamespaceSetup(env.connection, 'default');
    expect(second).toEqual({ addedSearchAttributes: [], retentionSeconds: second.retentionSeconds, retentionRaised: false });
  });
});
