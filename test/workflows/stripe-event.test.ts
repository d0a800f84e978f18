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

const taskQueue = 'test-stripe-event';
const [chargeFailedRecipe] = loadRecipes(path.resolve('recipes')).forEventType('charge.failed');

describe('stripeEventWorkflow on a real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let sink: CaptureSink;
  let analytics: Analytics;
  let worker: Worker;
  let running: Promise<void>;
  let answers: SinkResponse[] = [];

  beforeAll(async () => {
    env = await createLocalTestEnv();
    sink = await startCaptureSink({ respond: () => answers.shift() });
    analytics = createAnalytics({ writeKey: 'wk_wf', host: sink.url, flushIntervalMs: 20 });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      activities: createActivities({ analytics, integration: { name: 'stripe-segment', version: 'test' } }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await analytics?.closeAndFlush({ timeout: 2000 });
    await sink?.close();
    await env?.teardown();
  });

  beforeEach(() => {
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
    const messageId = messageIdFor(`${event.id}/charge-failed-identify/0`);
    expect(result).toEqual({
      eventId: event.id,
      recipes: [
        {
          recipeId: 'charge-failed-identify',
          version: chargeFailedRecipe!.version,
          outcome: 'delivered',
          steps: [{ step: 0, type: 'segment.identify', messageId }],
        },
      ],
    });
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ type: 'identify', userId: 'cus_wf_1', messageId });
  });

  it('rides out a Segment outage with retries and delivers once', async () => {
    answers.push({ status: 500 }, { status: 503 });
    const event = newEvent();
    await run(event, [chargeFailedRecipe!]);
    expect(sink.requests.map((r) => r.status)).toEqual([500, 503, 200]);
    // The same messageId on every attempt, so Segment can dedup.
    expect(new Set(sink.requests.map((r) => r.messages[0]!.messageId)).size).toBe(1);
    expect(sink.messages).toHaveLength(1);
  });

  it('fails the run without retrying when Segment rejects the write key', async () => {
    answers.push({ status: 401 });
    const event = newEvent();
    const err = await run(event, [chargeFailedRecipe!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('RecipeFailed');
    expect(cause.message).toMatch(/1 of 1 recipe\(s\) failed for charge\.failed/);
    expect(cause.message).toMatch(/charge-failed-identify: .*HTTP \[401\].*Check SEGMENT_WRITE_KEY/);
    expect(sink.requests).toHaveLength(1);
  });

  it('runs recipes independently: one failing recipe does not stop the others', async () => {
    const broken: RecipeSnapshot = {
      id: 'broken',
      name: 'No user id',
      version: 'v0',
      trigger: 'charge.failed',
      steps: [{ type: 'segment.identify', map: { traits: "{ 'x': 1 }" } }],
    };
    const event = newEvent('cus_wf_2');
    const err = (await run(event, [broken, chargeFailedRecipe!]).catch((e: unknown) => e)) as WorkflowFailedError;
    const cause = err.cause as ApplicationFailure;
    expect(cause.message).toMatch(/^1 of 2 recipe\(s\) failed .*broken: recipe broken@v0 step 0 \(segment\.identify\): .*identify needs userId or anonymousId/);
    const [details] = cause.details as [{ recipes: Array<{ recipeId: string; outcome: string }> }];
    expect(details.recipes.map((r) => [r.recipeId, r.outcome])).toEqual([
      ['broken', 'failed'],
      ['charge-failed-identify', 'delivered'],
    ]);
    expect(sink.messages.map((m) => m.userId)).toEqual(['cus_wf_2']);
  });

  it('sets up the namespace: search attributes and at least 72 h retention, idempotently', async () => {
    const first = await ensureNamespaceSetup(env.connection, 'default');
    expect(first.retentionSeconds).toBeGreaterThanOrEqual(MIN_RETENTION_SECONDS);
    const described = await env.connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBeGreaterThanOrEqual(72 * 3600);
    const attrs = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['StripeEventType', 'StripeCustomerId', 'StripeLivemode', 'RecipeIds']),
    );
    const second = await ensureNamespaceSetup(env.connection, 'default');
    expect(second).toEqual({ addedSearchAttributes: [], retentionSeconds: second.retentionSeconds, retentionRaised: false });
  });
});
