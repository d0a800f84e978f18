import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Analytics } from '@segment/analytics-node';
import { createActivities } from '../../src/activities';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { loadRecipes } from '../../src/recipes/loader';
import { startCaptureSink, type CaptureSink } from '../../src/segment/capture-sink';
import { createAnalytics } from '../../src/segment/client';
import { findTemporalTestServer } from '../../src/temporal/binaries';
import { statusQuery, stripeEventWorkflow, type DunningResult, type StripeEvent } from '../../src/workflows';
import { quietRuntime } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const HISTORY = path.join(ROOT, 'test', 'histories', 'dunning-recovered.json');
const recipes = loadRecipes(path.join(ROOT, 'recipes'));
const DAY = 86_400_000;

/** Dunning on the time-skipping test server: days pass in seconds. */
describe('dunning sequences', () => {
  let env: TestWorkflowEnvironment;
  let sink: CaptureSink;
  let analytics: Analytics;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = 'dunning-test';

  const startWorker = async () => {
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      activities: createActivities({ analytics, integration: { name: 'stripe-segment', version: 'test' } }),
      // No sticky cache: every workflow task replays the history from the start (a determinism
      // check on each step), and a stopped worker leaves no task on a sticky queue it no longer
      // polls (the time-skipping server does not time those out).
      maxCachedWorkflows: 0,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };

  beforeAll(async () => {
    quietRuntime();
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: findTemporalTestServer() } },
    });
    sink = await startCaptureSink();
    analytics = createAnalytics({ writeKey: 'wk_dunning', host: sink.url, flushIntervalMs: 10 });
    await startWorker();
  });
  afterAll(async () => {
    await stopWorker();
    await analytics?.closeAndFlush({ timeout: 2000 });
    await sink?.close();
    await env?.teardown();
  });

  let n = 0;
  /**
   * A client without automatic time skipping: waiting on it lets no time pass, so days pass only
   * through env.sleep (and while waiting on env.client, e.g. for a sequence's end).
   */
  const plain = () => new Client({ connection: env.connection, namespace: env.namespace });
  /** A Stripe event through its default recipes, as the ingress would start it. */
  const deliver = async (event: StripeEvent) =>
    plain().workflow.execute(stripeEventWorkflow, {
      taskQueue,
      workflowId: `stripe/${event.id}`,
      args: [{ event, recipes: recipes.forEventType(event.type) }],
    });
  /** An invoice event created now in the test server's (skipped) time. */
  const invoiceEvent = async (type: 'invoice.payment_failed' | 'invoice.paid', invoiceId: string, attempt = 1) => {
    const event = buildTestEvent(type, { created: Math.floor((await env.currentTimeMs()) / 1000) }) as unknown as StripeEvent;
    const inv = event.data.object as Record<string, unknown>;
    inv.id = invoiceId;
    inv.attempt_count = attempt;
    return event;
  };
  const newInvoice = () => `in_dun_${Date.now()}_${++n}`;
  /** The tracks of one sequence (each carries its dunning_key). */
  const dunningMessages = (key: string) => sink.messages.filter((m) => (m.properties as any)?.dunning_key === key);
  const events = (key: string) => dunningMessages(key).map((m) => m.event);
  const result = (key: string): Promise<DunningResult> => env.client.workflow.getHandle(`dunning/${key}`).result();

  it('runs the full schedule to exhaustion, on durable timers', async () => {
    const key = newInvoice();
    const failed = await invoiceEvent('invoice.payment_failed', key);
    const run = await deliver(failed);
    expect(run.recipes[0]!.steps.at(-1)).toMatchObject({ type: 'dunning.open', workflowId: `dunning/${key}` });

    const done = await result(key); // time skips through 7 days
    expect(done).toMatchObject({ key, outcome: 'exhausted', stage: 3, attempts: 1 });
    expect(events(key)).toEqual(['Dunning Step Reached', 'Dunning Step Reached', 'Dunning Step Reached', 'Dunning Exhausted']);
    const steps = dunningMessages(key).filter((m) => m.event === 'Dunning Step Reached');
    expect(steps.map((m) => (m.properties as any).step)).toEqual([1, 2, 3]);
    expect(steps[0]).toMatchObject({
      type: 'track',
      userId: (failed.data.object as any).customer,
      properties: { amount_due: 29, currency: 'USD', attempt_count: 1, hosted_invoice_url: expect.stringMatching(/^https:/), steps_total: 3 },
    });
    // Day 1, day 3, day 7 after the failure, in workflow time.
    const opened = failed.created * 1000;
    const at = steps.map((m) => Math.round((Date.parse(m.timestamp!) - opened) / DAY));
    expect(at).toEqual([1, 3, 7]);
    const status = sink.messages.find((m) => m.type === 'identify' && done.messageIds.includes(m.messageId));
    expect(status).toMatchObject({ traits: { dunning_status: 'exhausted' } });
  });

  it('ends at once when the payment recovers between steps, reporting the time to recover', async () => {
    const key = newInvoice();
    const failed = await invoiceEvent('invoice.payment_failed', key);
    await deliver(failed);
    const handle = env.client.workflow.getHandle(`dunning/${key}`);
    await env.sleep('2d'); // step 1 (day 1) passes, step 2 (day 3) does not
    const status = await plain().workflow.getHandle(`dunning/${key}`).query(statusQuery);
    expect(status).toMatchObject({ key, status: 'waiting', stage: 1, steps: 3, attempts: 1 });
    // Offsets count from when the sequence opened: the failure's arrival.
    const nextIn = Date.parse(status.nextStepAt!) - failed.created * 1000;
    expect(nextIn).toBeGreaterThanOrEqual(3 * DAY);
    expect(nextIn).toBeLessThan(3 * DAY + 5000);

    const paid = await invoiceEvent('invoice.paid', key);
    const run = await deliver(paid);
    expect(run.recipes[0]!.steps.at(-1)).toMatchObject({ type: 'dunning.recover', signaled: true });
    const done = await handle.result();
    expect(done).toMatchObject({ outcome: 'recovered', stage: 1 });
    expect(events(key)).toEqual(['Dunning Step Reached', 'Payment Recovered']);
    const recovered = dunningMessages(key).find((m) => m.event === 'Payment Recovered')!;
    expect(recovered.properties).toMatchObject({ step_reached: 1, recovered_by: 'invoice.paid' });
    expect(Math.round((recovered.properties as any).time_to_recover_seconds / 3600)).toBe(48);
    expect(sink.messages.find((m) => m.type === 'identify' && done.messageIds.includes(m.messageId))).toMatchObject({ traits: { dunning_status: 'recovered' } });
  });

  it('ends before the first step when the payment recovers at once', async () => {
    const key = newInvoice();
    await deliver(await invoiceEvent('invoice.payment_failed', key));
    await deliver(await invoiceEvent('invoice.paid', key));
    const done = await result(key);
    expect(done).toMatchObject({ outcome: 'recovered', stage: 0 });
    expect(events(key)).toEqual(['Payment Recovered']);
  });

  it('counts repeated failures in one sequence, and a duplicate delivery once', async () => {
    const key = newInvoice();
    const first = await invoiceEvent('invoice.payment_failed', key, 1);
    await deliver(first);
    // Stripe delivers the same event again (here as a second stripe run): the same failure.
    await plain().workflow.execute(stripeEventWorkflow, {
      taskQueue,
      workflowId: `stripe/${first.id}-again`,
      args: [{ event: first, recipes: recipes.forEventType(first.type) }],
    });
    // Stripe's next attempt fails too: the same sequence, one more attempt.
    const second = await deliver(await invoiceEvent('invoice.payment_failed', key, 2));
    expect(second.recipes[0]!.steps.at(-1)).toMatchObject({ type: 'dunning.open', workflowId: `dunning/${key}` });
    const handle = env.client.workflow.getHandle(`dunning/${key}`);
    expect(await plain().workflow.getHandle(`dunning/${key}`).query(statusQuery)).toMatchObject({ attempts: 2, stage: 0, details: { attempt_count: 2 } });
    const done = await handle.result();
    expect(done).toMatchObject({ outcome: 'exhausted', attempts: 2, stage: 3 });
    // No step twice, each with the latest attempt count.
    expect(events(key)).toEqual(['Dunning Step Reached', 'Dunning Step Reached', 'Dunning Step Reached', 'Dunning Exhausted']);
    expect(dunningMessages(key).filter((m) => m.event === 'Dunning Step Reached').map((m) => (m.properties as any).attempt_count)).toEqual([2, 2, 2]);
  });

  it('with restartOnFailure, a repeated failure starts the schedule again, with new message ids', async () => {
    const key = newInvoice();
    const restarting = recipes.forEventType('invoice.payment_failed').map((r) => ({
      ...r,
      steps: r.steps.map((st) => (st.type === 'dunning.open' ? { ...st, options: { ...(st as any).options, restartOnFailure: true } } : st)),
    }));
    const deliverWith = async (event: StripeEvent) =>
      plain().workflow.execute(stripeEventWorkflow, { taskQueue, workflowId: `stripe/${event.id}`, args: [{ event, recipes: restarting }] });
    await deliverWith(await invoiceEvent('invoice.payment_failed', key, 1));
    await env.sleep('2d'); // step 1
    await deliverWith(await invoiceEvent('invoice.payment_failed', key, 2));
    expect(await plain().workflow.getHandle(`dunning/${key}`).query(statusQuery)).toMatchObject({ stage: 0, attempts: 2 });
    await result(key);
    const steps = dunningMessages(key).filter((m) => m.event === 'Dunning Step Reached');
    expect(steps.map((m) => (m.properties as any).step)).toEqual([1, 1, 2, 3]);
    expect(new Set(steps.map((m) => m.messageId)).size).toBe(4);
  });

  it('does nothing more for a recovery whose key has no open sequence', async () => {
    const key = newInvoice();
    const run = await deliver(await invoiceEvent('invoice.paid', key));
    expect(run.recipes[0]).toMatchObject({ outcome: 'delivered' });
    expect(run.recipes[0]!.steps.at(-1)).toMatchObject({ type: 'dunning.recover', signaled: false });
    await expect(plain().workflow.getHandle(`dunning/${key}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(events(key)).toEqual([]);
  });

  it('keeps its state through a worker restart mid-sequence', async () => {
    const key = newInvoice();
    await deliver(await invoiceEvent('invoice.payment_failed', key));
    await env.sleep('2d'); // step 1 sent; waiting on the day-3 timer
    const before = await plain().workflow.getHandle(`dunning/${key}`).query(statusQuery);
    expect(before).toMatchObject({ stage: 1, attempts: 1 });
    // A new worker process: the old one (and its cache) is gone, state comes back from history.
    // (The time-skipping server cannot skip time while a task waits for a worker, so the restart
    // happens while the sequence waits on its timer.)
    await stopWorker();
    await startWorker();
    const after = await plain().workflow.getHandle(`dunning/${key}`).query(statusQuery);
    expect(after).toEqual(before);
    const done = await result(key);
    expect(done).toMatchObject({ outcome: 'exhausted', stage: 3 });
    expect(events(key)).toEqual(['Dunning Step Reached', 'Dunning Step Reached', 'Dunning Step Reached', 'Dunning Exhausted']);
  });

  it('replays recorded histories deterministically', async () => {
    // A run recorded from this code and committed (test/histories; RECORD_HISTORY=1 re-records
    // it after a deliberate, versioned change), and one made now.
    const key = newInvoice();
    await deliver(await invoiceEvent('invoice.payment_failed', key));
    await env.sleep('2d');
    await deliver(await invoiceEvent('invoice.paid', key));
    await result(key);
    const fresh = await env.client.workflow.getHandle(`dunning/${key}`).fetchHistory();
    if (process.env.RECORD_HISTORY === '1') writeFileSync(HISTORY, `${historyToJSON(fresh)}\n`);
    const replay = (history: unknown) => Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows'), replayName: 'dunning' }, history);
    await replay(fresh);
    expect(existsSync(HISTORY)).toBe(true);
    const recorded = JSON.parse(readFileSync(HISTORY, 'utf8'));
    expect(recorded.events.length).toBeGreaterThan(10);
    await replay(recorded);
  });
});
