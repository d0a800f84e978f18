import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { majorUnits } from '../../src/recipes/functions';
import { startCaptureSink, type CaptureSink } from '../../src/segment/capture-sink';
import { namespaceRetentionSeconds } from '../../src/temporal/namespace-setup';
import { RECONCILE_OVERLAP_SECONDS, RECONCILE_SCHEDULE_ID } from '../../src/temporal/reconcile-schedule';
import type { ReconcileResult } from '../../src/workflows';
import { BIN, launchApp, type RunningApp } from '../helpers/app';
import { recordHistory } from '../helpers/histories';
import { waitUntil } from '../helpers/net';
import { startStripeMock, type StripeMock } from '../helpers/stripe-mock';

const ROOT = path.resolve(__dirname, '..', '..');
const exec = promisify(execFile);

/** A recipe with a mapping bug: `event` maps to nothing, so Segment's Track is refused. */
const brokenRecipe = (event: string) => ({
  id: 'ops-alert',
  name: 'Charge failed → Track for the ops channel',
  enabled: true,
  trigger: 'charge.failed',
  steps: [{ type: 'segment.track', map: { userId: 'event.data.object.customer', event, properties: "{ 'charge_id': event.data.object.id }" } }],
});

/** stripe-mock, with its one Event fixture replaced by a real charge.failed event of ours. */
function mockWithEvent(eventId: string, customer: string): Promise<StripeMock> {
  return startStripeMock((resources) => {
    resources.event = buildTestEvent('charge.failed', { id: eventId, customer, created: Math.floor(Date.now() / 1000) - 120 }) as unknown as Record<string, unknown>;
    resources.webhook_endpoint = { ...resources.webhook_endpoint, secret: 'whsec_from_stripe' };
  });
}

/**
 * Operating the service: the run log (search attributes, summaries, `runs` CLI), retry after a
 * recipe fix, backfill and the reconciliation Schedule against stripe-mock, webhook registration,
 * and replaying a recorded run on this code.
 */
describe('operating it: run log, retry, backfill, reconciliation, webhooks', () => {
  let app: RunningApp;
  let sink: CaptureSink;
  let client: Client;
  let reconcileMock: StripeMock; // the app's STRIPE_API_BASE
  let backfillMock: StripeMock; // what `backfill` lists
  let recipesDir: string;
  let segmentDown = true;
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const missedEvent = `evt_missed_${suffix}`;
  const backfillEvent = `evt_backfill_${suffix}`;

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    exec(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...app.env, ...env } }).then(
      (r) => ({ ...r, code: 0 }),
      (err: { stdout: string; stderr: string; code: number }) => ({ stdout: err.stdout, stderr: err.stderr, code: err.code }),
    );

  beforeAll(async () => {
    // Segment is "down" (500) for anything about cus_down while `segmentDown` is set.
    sink = await startCaptureSink({ respond: (messages) => (segmentDown && messages.some((m) => m.userId === 'cus_down') ? { status: 500 } : undefined) });
    reconcileMock = await mockWithEvent(missedEvent, 'cus_missed');
    backfillMock = await mockWithEvent(backfillEvent, 'cus_backfill');
    recipesDir = mkdtempSync(path.join(os.tmpdir(), 'ss-recipes-'));
    copyFileSync(path.join(ROOT, 'recipes', 'charge-failed.json'), path.join(recipesDir, 'charge-failed.json'));
    writeFileSync(path.join(recipesDir, 'ops-alert.json'), JSON.stringify(brokenRecipe('event.data.object.no_such_field')));
    app = await launchApp({
      SEGMENT_WRITE_KEY: 'wk_ops',
      SEGMENT_HOST: sink.url,
      RECIPES_DIR: recipesDir,
      STRIPE_API_KEY: 'sk_test_123',
      STRIPE_API_BASE: reconcileMock.url,
      // On, but so rare it never fires by itself during the test: the test triggers it.
      RECONCILE_INTERVAL: '720h',
      // Longer than the namespace retention (72 h): the first run is capped at the retention.
      RECONCILE_LOOKBACK: '30d',
    });
    client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${app.temporalPort}` }) });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await client?.connection.close();
    await sink?.close();
    await reconcileMock?.stop();
    await backfillMock?.stop();
  });

  const listed = async (args: string[], eventId: string) => {
    let out = '';
    await waitUntil(
      async () => {
        out = (await cli(['runs', 'list', ...args])).stdout;
        return out.includes(eventId);
      },
      20_000,
      `runs list ${args.join(' ')} to show ${eventId}`,
    );
    return out;
  };

  let failedEvent: string;

  it('finds a failed run by customer and outcome, and shows why, with summaries in the Web UI', async () => {
    const sent = await cli(['send-test-event', 'charge.failed', '--customer', 'cus_ops_1']);
    expect(sent.code).toBe(0);
    failedEvent = /(evt_test_\w+)/.exec(sent.stdout)![1]!;

    // One recipe delivered and one failed: the run failed and its Outcome says partial.
    const line = (await listed(['--customer', 'cus_ops_1', '--outcome', 'partial'], failedEvent)).split('\n').find((l) => l.includes(failedEvent))!;
    expect(line).toMatch(/charge\.failed\s+cus_ops_1\s+FAILED\s+partial/);
    const other = await cli(['runs', 'list', '--customer', 'cus_ops_1', '--outcome', 'delivered']);
    expect(other.stdout).not.toContain(failedEvent);
    expect(other.stdout).toContain('Outcome = "delivered"');

    const shown = await cli(['runs', 'show', failedEvent]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/run 1\/1 \S+\s+FAILED · outcome partial\s+via webhook/);
    expect(shown.stdout).toMatch(/recipe ops-alert@\w+\s+failed: .*recipe ops-alert@\w+ step 0 \(segment\.track\).*event/);
    // The delivered recipe's messageIds are the ones Segment got.
    const ids = [...shown.stdout.matchAll(/messageId ([0-9a-f-]{36})/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    await waitUntil(() => ids.every((id) => sink.messages.some((m) => m.messageId === id)), 10_000, 'the delivered messages at the sink');

    // What the Web UI shows: the run's one-line summary and details, and each activity's summary.
    const handle = client.workflow.getHandle(`stripe/${failedEvent}`);
    const event = buildTestEvent('charge.failed', { customer: 'cus_ops_1' });
    const amount = `${String(event.data.object.currency).toUpperCase()} ${majorUnits(event.data.object.amount, event.data.object.currency)}`;
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`charge.failed · cus_ops_1 · ${amount} → 2 recipes`);
    expect(await description.staticDetails()).toMatch(/- `charge-failed` version `\w{12}`\n- `ops-alert` version `\w{12}`/);
    expect(description.typedSearchAttributes.get({ name: 'StripeObjectId', type: 'KEYWORD' } as never)).toBe(event.data.object.id);
    const history = await handle.fetchHistory();
    const summaries = (history.events ?? [])
      .map((e) => e.userMetadata?.summary)
      .filter(Boolean)
      .map((p) => defaultPayloadConverter.fromPayload<string>(p!));
    expect(summaries).toEqual(expect.arrayContaining(['Segment identify cus_ops_1', 'Segment track "Payment Failed" cus_ops_1']));
  });

  it('retries the failed recipe after the recipe is fixed, and refuses a second retry', async () => {
    const deliveredBefore = sink.messages.length;
    await recordHistory(client, 'stripe-partial', `stripe/${failedEvent}`);
    writeFileSync(path.join(recipesDir, 'ops-alert.json'), JSON.stringify(brokenRecipe("'Ops Alert'")));
    const retried = await cli(['runs', 'retry', failedEvent, '--wait']);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/retrying .* with ops-alert@\w+ \(published\)/);
    const retryRun = retried.stdout.slice(retried.stdout.indexOf('run 2/2'));
    expect(retryRun).toMatch(/^run 2\/2 \S+\s+COMPLETED · outcome delivered\s+via retry/);
    expect(retryRun).toMatch(/recipe ops-alert@\w+\s+delivered/);
    expect(retryRun).not.toContain('charge-failed@'); // only the failed recipe ran again
    await waitUntil(() => sink.messages.slice(deliveredBefore).some((m) => m.event === 'Ops Alert' && m.userId === 'cus_ops_1'), 10_000, 'the fixed Track');
    // Segment got nothing else for the customer: the recipe that had delivered did not send again.
    expect(sink.messages.slice(deliveredBefore).filter((m) => m.userId === 'cus_ops_1').map((m) => `${m.type} ${m.event}`)).toEqual(['track Ops Alert']);

    const shown = await cli(['runs', 'show', failedEvent]);
    expect(shown.stdout).toMatch(/run 1\/2 .*FAILED · outcome partial[\s\S]*run 2\/2 .*COMPLETED · outcome delivered\s+via retry/);
    await listed(['--customer', 'cus_ops_1', '--outcome', 'delivered'], failedEvent);
    await recordHistory(client, 'stripe-retry', `stripe/${failedEvent}`);

    const again = await cli(['runs', 'retry', failedEvent]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('completed (outcome delivered); there is nothing to retry');
    const unknown = await cli(['runs', 'retry', 'evt_never_seen']);
    expect(unknown.stderr).toContain('No run for Stripe event evt_never_seen');
  });

  it('shows what a running run is retrying; terminate, then retry it once Segment is back', async () => {
    const sent = await cli(['send-test-event', 'charge.failed', '--customer', 'cus_down']);
    const eventId = /(evt_test_\w+)/.exec(sent.stdout)![1]!;
    let shown = '';
    await waitUntil(
      async () => {
        shown = (await cli(['runs', 'show', eventId])).stdout;
        return /pending segmentCall\s+attempt [2-9]/.test(shown);
      },
      30_000,
      'runs show to report the retried Segment call',
    );
    expect(shown).toMatch(/RUNNING\s+via webhook/);
    expect(shown).toMatch(/pending segmentCall\s+attempt \d+\s+last failure: .*Segment delivery failed \(will retry\): \[500\]/);

    const refused = await cli(['runs', 'retry', eventId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is still running \(segmentCall, attempt \d+: .*\); Temporal keeps retrying it/);

    const terminated = await cli(['runs', 'terminate', eventId, '--reason', 'Segment outage drill']);
    expect(terminated.stdout).toBe(`terminated stripe/${eventId}: Segment outage drill\n`);
    segmentDown = false;
    const retried = await cli(['runs', 'retry', eventId, '--wait']);
    expect(retried.code).toBe(0);
    // A terminated run reports no recipe results: every recipe of its snapshot runs again.
    expect(retried.stdout).toMatch(/with charge-failed@\w+ \(published\), ops-alert@\w+ \(published\)/);
    expect(retried.stdout).toMatch(/run 1\/2 \S+\s+TERMINATED\s+via webhook[\s\S]*run 2\/2 \S+\s+COMPLETED · outcome delivered\s+via retry/);
    expect(sink.messages.filter((m) => m.userId === 'cus_down').map((m) => m.type).sort()).toEqual(['identify', 'track', 'track']);
  });

  it('the reconciliation Schedule starts runs for events the ingress missed, then resumes from its checkpoint', async () => {
    const schedule = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
    const results = async () => {
      const done: ReconcileResult[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = "reconcileWorkflow" AND ExecutionStatus = "Completed"` })) {
        done.push((await client.workflow.getHandle(wf.workflowId, wf.runId).result()) as ReconcileResult);
      }
      return done.sort((a, b) => a.checkpoint - b.checkpoint);
    };
    await schedule.trigger();
    await waitUntil(async () => (await results()).length === 1, 30_000, 'the first reconciliation');
    const [first] = await results();
    for await (const wf of client.workflow.list({ query: `WorkflowType = "reconcileWorkflow"` })) await recordHistory(client, 'reconcile', wf.workflowId, wf.runId);
    expect(first).toMatchObject({ seen: 1, started: 1, alreadyDone: 0 });
    // The first run looks back RECONCILE_LOOKBACK, but never past the namespace retention: runs of
    // events older than that are deleted, so those events would reach Segment again.
    const retention = await namespaceRetentionSeconds(client.connection, 'default');
    expect(retention).toBeLessThan(30 * 86_400);
    expect(first!.checkpoint - first!.since).toBe(retention - 300);
    expect(reconcileMock.requests.map(decodeURIComponent)).toContainEqual(expect.stringContaining(`created[gte]=${first!.since}`));
    expect(reconcileMock.requests.map(decodeURIComponent)).toContainEqual(expect.stringMatching(/^GET \/v1\/events\?.*types\[0\]=charge\.failed/));
    await listed(['--customer', 'cus_missed'], missedEvent);
    const shown = await cli(['runs', 'show', missedEvent]);
    expect(shown.stdout).toMatch(/via reconciliation/);

    await new Promise((r) => setTimeout(r, 1100)); // the next window starts at a later second
    await schedule.trigger();
    await waitUntil(async () => (await results()).length === 2, 30_000, 'the second reconciliation');
    const second = (await results())[1]!;
    // Resumed from the first run's checkpoint (minus the overlap), and skipped what was done.
    expect(second.since).toBe(first!.checkpoint - RECONCILE_OVERLAP_SECONDS);
    expect(second).toMatchObject({ seen: 1, started: 0, alreadyDone: 1 });
  });

  it('backfill lists missed events from Stripe and starts each once', async () => {
    const env = { STRIPE_API_BASE: backfillMock.url };
    const first = await cli(['backfill', '--since', '2h'], env);
    expect(first.stderr).toBe(`listing charge.failed since ${first.stderr.match(/since (\S+)…/)?.[1]}…\n`);
    expect(first.stdout).toMatch(/^backfill: seen 1, started 1, already done 0, ignored 0, failed 0 in [\d.]+ s\n$/);
    const listing = backfillMock.requests.find((r) => r.startsWith('GET /v1/events?'))!;
    expect(decodeURIComponent(listing)).toMatch(/created\[gte\]=\d+/);
    await listed(['--customer', 'cus_backfill'], backfillEvent);
    expect((await cli(['runs', 'show', backfillEvent])).stdout).toMatch(/COMPLETED · outcome delivered\s+via backfill/);

    const second = await cli(['backfill', '--since', '2h'], env);
    expect(second.stdout).toMatch(/seen 1, started 0, already done 1, ignored 0, failed 0/);

    const tooOld = await cli(['backfill', '--since', '31d'], env);
    expect(tooOld.code).toBe(1);
    expect(tooOld.stderr).toContain('Stripe keeps events for 30 days only');
    const pastRetention = await cli(['backfill', '--since', '4d'], env);
    expect(pastRetention.stderr).toContain('reaches past the namespace retention (72 h)');
    const noType = await cli(['backfill', '--since', '1h', '--types', 'invoice.paid'], env);
    expect(noType.stderr).toContain('No published recipe is triggered by invoice.paid');
    const noKey = await cli(['backfill', '--since', '1h'], { STRIPE_API_KEY: '' });
    expect(noKey.stderr).toContain('STRIPE_API_KEY is not set: backfill needs the Stripe API');
  });

  it('registers the webhook endpoint once: updates the one for its URL, creates only when none exists', async () => {
    const fixtureUrl = 'https://example.com/my/webhook/endpoint'; // the endpoint stripe-mock lists
    const mark = reconcileMock.requests.length;
    const update = await cli(['webhooks', 'register', '--url', fixtureUrl]);
    expect(update.stdout).toMatch(/^updated we_\w+ https:\/\/example\.com\/my\/webhook\/endpoint \(enabled\): charge\.failed\n$/);
    const calls = reconcileMock.requests.slice(mark).map((r) => r.split('?')[0]);
    expect(calls).toEqual(['GET /v1/webhook_endpoints', expect.stringMatching(/^POST \/v1\/webhook_endpoints\/we_\w+$/)]);

    const secretFile = path.join(app.dataDir, 'stripe-webhook-secret');
    const created = await cli(['webhooks', 'register', '--url', 'https://hooks.example.org/v1/webhooks/stripe']);
    expect(created.stdout).toMatch(/^created we_\w+ https:\/\/hooks\.example\.org\/v1\/webhooks\/stripe/);
    expect(created.stdout).toContain(`signing secret stored in ${secretFile}`);
    expect(readFileSync(secretFile, 'utf8').trim()).toBe('whsec_from_stripe');
    expect(reconcileMock.requests.filter((r) => r === 'POST /v1/webhook_endpoints')).toHaveLength(1);

    // stripe-mock still lists its fixture's events (charge.failed, charge.succeeded): all ours are there.
    const status = await cli(['webhooks', 'status', '--url', fixtureUrl]);
    expect(status.stdout).toContain('every published trigger is sent');
    expect(status.code).toBe(0);
    const none = await cli(['webhooks', 'status', '--url', 'https://nowhere.example/hook']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('No endpoint for https://nowhere.example/hook');
  });

  it('replays a finished run on this code', async () => {
    const replay = await cli(['replay', failedEvent]);
    expect(replay.stdout).toMatch(new RegExp(`stripe/${failedEvent}: \\d+ history events replay on this code`));
    const missing = await cli(['replay', 'evt_never_seen']);
    expect(missing.stderr).toContain('No workflow stripe/evt_never_seen');
  });
});
