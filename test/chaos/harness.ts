import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { dryRun } from '../../src/recipes/dry-run';
import { loadRecipes } from '../../src/recipes/loader';
import { startCaptureSink, type CaptureSink, type CapturedMessage } from '../../src/segment/capture-sink';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort, waitUntil } from '../helpers/net';
import { startOpenAIStandIn, type OpenAIStandIn } from '../helpers/openai-standin';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'stripe-segment.js');
const SECRET = 'whsec_chaos';
/** How long a Segment fault window may hold past its slot, waiting for a request to meet it. */
const SEGMENT_FAULT_HOLD_S = 30;
/** What the OpenAI stand-in answers when it answers in time. */
const AI = { urgency: 'high', cause: 'fraud' };
/**
 * The triggers in the mix: all ten but invoice.payment_failed, whose dunning sequence waits a day
 * by design (its own suite covers it on the time-skipping server). The dispute runs the AI step.
 */
const TYPES = [
  'charge.failed',
  'checkout.session.completed',
  'customer.created',
  'charge.dispute.created',
  'customer.subscription.created',
  'customer.subscription.deleted',
  'invoice.paid',
  'payment_intent.succeeded',
  'charge.refunded',
];

export interface ChaosProfile {
  events: number;
  ratePerS: number;
  duplicateShare: number;
  concurrentDuplicateShare: number;
  forged: number;
  /** Fault timeline, seconds after the load starts. */
  segment500: [number, number];
  segment429: [number, number];
  segmentDown: [number, number];
  /** Each kill happens at a random moment in the 3 s after its time. */
  workerKills: number[];
  devServerDown: [number, number];
  openAiTimeoutShare: number;
  drainTimeoutS: number;
}

export const PROFILES: Record<'short' | 'long', ChaosProfile> = {
  short: {
    events: 240,
    ratePerS: 12,
    duplicateShare: 0.1,
    concurrentDuplicateShare: 0.03,
    forged: 30,
    segment500: [2, 7],
    segment429: [7, 10],
    segmentDown: [10, 15],
    // Neither kill falls in the 3 s of 429s (a window also holds until a request has met it).
    workerKills: [3, 12],
    devServerDown: [16, 19],
    openAiTimeoutShare: 0.2,
    drainTimeoutS: 75,
  },
  long: {
    events: 3000,
    ratePerS: 20,
    duplicateShare: 0.1,
    concurrentDuplicateShare: 0.03,
    forged: 300,
    segment500: [10, 35],
    segment429: [35, 50],
    segmentDown: [50, 80],
    workerKills: [25, 95],
    devServerDown: [110, 118],
    openAiTimeoutShare: 0.2,
    drainTimeoutS: 600,
  },
};

export interface Verdict {
  profile: ChaosProfile;
  sent: number;
  acked: number;
  /** Acked events whose every expected message reached Segment. */
  delivered: number;
  deliveries: number;
  duplicateDeliveries: number;
  answers: Record<string, number>;
  expectedMessages: number;
  missingMessages: number;
  /** Delivered messages whose content (type, ids, event, traits, properties) differs from the dry run's. */
  wrongMessages: number;
  extraMessageIds: number;
  rawDuplicates: number;
  forgedSent: number;
  forgedRefused: number;
  forgedStarted: number;
  /** Runs of stripeEventWorkflow in any state, and those Completed: one per acked event each. */
  runsStarted: number;
  runsCompleted: number;
  workflowsRunning: number;
  workflowsFailed: number;
  /** What the faults did, counted where they happened (not when they were scheduled). */
  segment500Answers: number;
  segment429Answers: number;
  workerKillsLanded: number;
  faults: string[];
  drainAfterLastFaultS: number;
  /** From the last event acked (every delivery answered) until every expected message arrived. */
  drainAfterLastAckS: number;
  seconds: number;
}

/** The Segment stand-in, with faults: 500s for a share of requests, 429 bursts, or no listener at all. */
class FaultySegment {
  private sink?: CaptureSink;
  readonly messages: CapturedMessage[] = [];
  private currentMode: 'ok' | '500' | '429' = 'ok';
  /** Requests since the mode last changed: each fault starts with its first request. */
  private inMode = 0;
  requests = 0;
  answered500 = 0;
  answered429 = 0;
  constructor(readonly port: number) {}
  get mode() {
    return this.currentMode;
  }
  set mode(mode: 'ok' | '500' | '429') {
    this.currentMode = mode;
    this.inMode = 0;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async up() {
    this.sink = await startCaptureSink({
      port: this.port,
      respond: (batch) => {
        this.requests++;
        const n = this.inMode++;
        if (this.currentMode === '500' && n % 5 === 0) {
          this.answered500++;
          return { status: 500 };
        }
        if (this.currentMode === '429' && n % 3 !== 2) {
          this.answered429++;
          return { status: 429, headers: { 'Retry-After': '1' } };
        }
        this.messages.push(...batch);
        return undefined;
      },
    });
  }
  async down() {
    await this.sink?.close();
    this.sink = undefined;
  }
}

function spawnService(role: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [BIN, role], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}
/** Resolves once the process has exited: true if this signal ended it, false if it had already exited. */
const killed = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(false);
    child.once('exit', () => resolve(true));
    child.kill(signal);
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a Segment message says, as a canonical string: its call, ids, event and payload (not its timestamps). */
const CONTENT_KEYS = ['type', 'userId', 'anonymousId', 'groupId', 'previousId', 'event', 'name', 'category', 'traits', 'properties'];
function content(message: Record<string, unknown>): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(canonical(Object.fromEntries(CONTENT_KEYS.filter((k) => message[k] !== undefined).map((k) => [k, message[k]]))));
}

/**
 * Runs the real stack (ingress and worker processes, the embedded dev server on a persistent
 * database, local Segment and OpenAI stand-ins) through the profile's faults while a generator
 * delivers signed events the way Stripe does, then waits for the backlog to drain and returns the
 * verdict's figures.
 */
export async function runChaos(profile: ChaosProfile, log: (msg: string) => void = () => undefined): Promise<Verdict> {
  const started = Date.now();
  const faults: string[] = [];
  /** Logs a fault as it begins; returns its index in `faults`. */
  const fault = (what: string) => {
    log(what);
    return faults.push(`${((Date.now() - loadStart) / 1000).toFixed(1)}s ${what}`) - 1;
  };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-chaos-'));
  const [temporalPort, uiPort] = [await freePort(), await freePort()];
  const serverOptions = { dataDir, namespace: 'default', port: temporalPort, uiPort, sqlitePragmas: ['journal_mode=wal', 'synchronous=full'] };
  let server: DevServer = await startDevServer(serverOptions);
  // Picked once the dev server has bound its own (random) internal ports.
  const [apiPort, segmentPort] = [await freePort(), await freePort()];
  const segment = new FaultySegment(segmentPort);
  await segment.up();
  const openai: OpenAIStandIn = await startOpenAIStandIn({ apiKey: 'sk-chaos', fallback: { content: JSON.stringify(AI) } });
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    STRIPE_WEBHOOK_SECRET: SECRET,
    SEGMENT_WRITE_KEY: 'wk_chaos',
    SEGMENT_HOST: segment.url,
    OPENAI_API_KEY: 'sk-chaos',
    OPENAI_BASE_URL: openai.url,
    OPENAI_MODEL: 'gpt-chaos',
    OPENAI_TIMEOUT_MS: '500',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
  };
  let worker = spawnService('worker', env);
  const api = spawnService('api', env);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const url = `http://127.0.0.1:${apiPort}/v1/webhooks/stripe`;
  await waitUntil(() => fetch(url.replace('/v1/webhooks/stripe', '/readyz')).then((r) => r.ok, () => false), 60_000, 'the ingress');
  await waitUntil(
    async () =>
      ((await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'stripe-segment' }, taskQueueType: 1 })).pollers ?? []).length > 0,
    60_000,
    'the worker',
  );

  // Some classify calls time out: the stand-in answers after the client (OPENAI_TIMEOUT_MS 500) gave up.
  let replies = 0;
  let openAiTimeouts = 0;
  const everyNth = Math.round(1 / profile.openAiTimeoutShare);
  const openAiFaults = setInterval(() => {
    while (openai.replies.length < 5) {
      const late = ++replies % everyNth === 0;
      if (late) openAiTimeouts++;
      openai.replies.push(late ? { delayMs: 1500, content: JSON.stringify(AI) } : { content: JSON.stringify(AI) });
    }
  }, 50);

  const recipes = loadRecipes(path.join(ROOT, 'recipes'), { openai: true, defaultModel: 'gpt-chaos' });
  const expected = new Map<string, string[]>(); // acked event id → messageIds
  const expectedContent = new Map<string, string>(); // messageId → what the dry run would send
  const answers: Record<string, number> = {};
  let sent = 0;
  let duplicateDeliveries = 0;
  let deliveries = 0;

  /** One delivery, retried like Stripe (backoff on a non-2xx or no answer) until acked. */
  const deliver = async (event: { id: string }, deadline: number): Promise<boolean> => {
    const payload = JSON.stringify(event);
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      deliveries++;
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
      const status = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload, signal: AbortSignal.timeout(10_000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      answers[status] = (answers[status] ?? 0) + 1;
      if (status >= 200 && status < 300) return true;
      if (status >= 400 && status < 500) return false;
      await sleep(Math.min(3000, 250 * 2 ** attempt));
    }
    return false;
  };

  const forged: string[] = [];
  let forgedRefused = 0;
  const forge = async (i: number) => {
    const event = buildTestEvent(TYPES[i % TYPES.length]!, { id: `evt_forged_${i}_${started}` });
    forged.push(event.id);
    const payload = JSON.stringify(event);
    const kind = i % 3;
    const signature =
      kind === 0
        ? Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' })
        : Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const body = kind === 2 ? payload.slice(0, payload.length >> 1) : payload;
    const status = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': kind === 2 ? Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) : signature }, body }).then(
      (r) => r.status,
      () => 0,
    );
    if (status >= 400 && status < 500) forgedRefused++;
  };

  // The fault timeline.
  const loadStart = Date.now();
  const at = <T>(s: number, fn: () => T) => sleep(s * 1000 - (Date.now() - loadStart)).then(fn);
  let lastFaultClearedAt = loadStart;
  let workerKillsLanded = 0;
  const cleared = () => (lastFaultClearedAt = Math.max(lastFaultClearedAt, Date.now()));
  /**
   * One Segment fault window: from its slot (or once the one before it ended) until its slot's end
   * and until it has answered at least one request with its fault. A window no request reached
   * would test nothing (a worker restarting on a busy machine can send nothing for seconds), so it
   * holds on, for at most SEGMENT_FAULT_HOLD_S, and the fault line says how long it held.
   */
  const segmentWindow = async (mode: '500' | '429', [from, to]: [number, number], what: string, answered: () => number) => {
    const line = await at(from, () => ((segment.mode = mode), fault(what)));
    await at(to, () => undefined);
    const held = Date.now();
    await waitUntil(() => answered() > 0, SEGMENT_FAULT_HOLD_S * 1000, `a Segment request during the ${mode} window`).catch(() => undefined);
    const s = (Date.now() - held) / 1000;
    if (s >= 0.1) faults[line] += ` (held ${s.toFixed(1)} s past its slot until a request met it)`;
    segment.mode = 'ok';
    cleared();
  };
  const segmentFaults = (async () => {
    await segmentWindow('500', profile.segment500, 'Segment: 500 for 20% of requests (1 in 5)', () => segment.answered500);
    await segmentWindow('429', profile.segment429, 'Segment: 429 with Retry-After: 1 for 2 of 3 requests', () => segment.answered429);
    const downS = profile.segmentDown[1] - profile.segmentDown[0];
    await at(profile.segmentDown[0], async () => (await segment.down(), fault(`Segment: down (no listener) for ${downS} s`)));
    await sleep(downS * 1000);
    await segment.up();
    cleared();
  })();
  const timeline = Promise.all([
    segmentFaults,
    // Each kill lands at a random moment within 3 s of its slot: mid-activity, mid-task, or idle.
    ...profile.workerKills.map((s) =>
      at(s + Math.random() * 3, async () => {
        if (await killed(worker, 'SIGKILL')) workerKillsLanded++;
        fault('worker: SIGKILL');
        await sleep(1000);
        worker = spawnService('worker', env);
        cleared();
      }),
    ),
    at(profile.devServerDown[0], async () => {
      await server.stop();
      fault(`Temporal dev server: stopped for ${profile.devServerDown[1] - profile.devServerDown[0]} s`);
    }),
    at(profile.devServerDown[1], async () => {
      server = await startDevServer(serverOptions);
      cleared();
    }),
  ]);

  // The load: events at a fixed rate; some delivered twice, some of those at the same moment;
  // forged and malformed requests mixed in.
  const inflight: Promise<void>[] = [];
  const loadDeadline = loadStart + (profile.events / profile.ratePerS) * 1000 + 90_000;
  for (let i = 0; i < profile.events; i++) {
    await sleep(loadStart + (i * 1000) / profile.ratePerS - Date.now());
    const event = buildTestEvent(TYPES[i % TYPES.length]!, { id: `evt_chaos_${started}_${i}`, customer: `cus_chaos_${i}` });
    sent++;
    const r = Math.random();
    const twice = r < profile.duplicateShare;
    const together = r < profile.concurrentDuplicateShare;
    inflight.push(
      (async () => {
        const results = await Promise.all(together ? [deliver(event, loadDeadline), deliver(event, loadDeadline)] : [deliver(event, loadDeadline)]);
        if (twice && !together) results.push(await deliver(event, loadDeadline));
        if (results.length > 1) duplicateDeliveries += results.length - 1;
        if (results.some(Boolean)) {
          const ids: string[] = [];
          for (const recipe of recipes.forEventType(event.type)) {
            for (const step of (await dryRun(recipe, event, { ai: AI })).steps) {
              if (!step.message) continue;
              ids.push(step.message.messageId);
              expectedContent.set(step.message.messageId, content(step.message));
            }
          }
          expected.set(event.id, ids);
        }
      })(),
    );
    if (i % Math.max(1, Math.floor(profile.events / profile.forged)) === 0 && forged.length < profile.forged) inflight.push(forge(i));
  }
  await Promise.all(inflight);
  const lastAckAt = Date.now();
  await timeline;
  clearInterval(openAiFaults);
  openAiTimeouts -= openai.replies.filter((r) => r.delayMs).length; // queued, never served
  openai.replies.length = 0;
  if (openAiTimeouts > 0) faults.push(`OpenAI: ${openAiTimeouts} classify calls timed out (1 in ${everyNth})`);

  // Drain: every expected message delivered and no run left running.
  const want = new Set([...expected.values()].flat());
  const got = () => new Set(segment.messages.map((m) => m.messageId));
  /** Runs of Stripe events, in any state or in one. */
  const runs = async (status?: 'Running' | 'Completed' | 'Failed') =>
    (await client.workflow.count(`WorkflowType = "stripeEventWorkflow"${status ? ` AND ExecutionStatus = "${status}"` : ''}`)).count;
  await waitUntil(
    async () => [...want].every((id) => got().has(id)) && (await runs('Running').catch(() => 1)) === 0,
    profile.drainTimeoutS * 1000,
    'the backlog to drain',
  ).catch(() => undefined);
  const drainedAt = Date.now();

  const received = got();
  const perId = new Map<string, number>();
  for (const m of segment.messages) perId.set(m.messageId, (perId.get(m.messageId) ?? 0) + 1);
  let forgedStarted = 0;
  for (const id of forged) {
    const exists = await client.workflow
      .getHandle(`stripe/${id}`)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
    if (exists) forgedStarted++;
  }
  const verdict: Verdict = {
    profile,
    sent,
    acked: expected.size,
    delivered: [...expected.values()].filter((ids) => ids.every((id) => received.has(id))).length,
    deliveries,
    duplicateDeliveries,
    answers,
    expectedMessages: want.size,
    missingMessages: [...want].filter((id) => !received.has(id)).length,
    wrongMessages: segment.messages.filter((m) => expectedContent.has(m.messageId) && content(m) !== expectedContent.get(m.messageId)).length,
    extraMessageIds: [...received].filter((id) => !want.has(id)).length,
    rawDuplicates: [...perId.values()].reduce((n, c) => n + c - 1, 0),
    forgedSent: forged.length,
    forgedRefused,
    forgedStarted,
    runsStarted: await runs(),
    runsCompleted: await runs('Completed'),
    workflowsRunning: await runs('Running'),
    workflowsFailed: await runs('Failed'),
    segment500Answers: segment.answered500,
    segment429Answers: segment.answered429,
    workerKillsLanded,
    faults,
    drainAfterLastFaultS: Math.round((drainedAt - lastFaultClearedAt) / 100) / 10,
    drainAfterLastAckS: Math.round((drainedAt - lastAckAt) / 100) / 10,
    seconds: Math.round((Date.now() - started) / 1000),
  };

  await killed(api, 'SIGTERM');
  await killed(worker, 'SIGTERM');
  await connection.close();
  await server.stop();
  await segment.down();
  await openai.close();
  return verdict;
}

/** The verdict as a person reads it, one figure a line. */
export function formatVerdict(name: string, v: Verdict): string {
  const rows: [string, string][] = [
    ['events sent / acked / fully delivered', `${v.sent} / ${v.acked} / ${v.delivered}`],
    ['deliveries (of them duplicates)', `${v.deliveries} (${v.duplicateDeliveries})`],
    ['ingress answers', Object.entries(v.answers).map(([status, n]) => `${status}: ${n}`).join(', ')],
    ['expected messageIds / missing / extra', `${v.expectedMessages} / ${v.missingMessages} / ${v.extraMessageIds}`],
    ['delivered with other content than expected', String(v.wrongMessages)],
    ['raw duplicates (a messageId sent again)', String(v.rawDuplicates)],
    ['forged or malformed: sent / refused / started', `${v.forgedSent} / ${v.forgedRefused} / ${v.forgedStarted}`],
    ['runs started / completed', `${v.runsStarted} / ${v.runsCompleted}`],
    ['runs left running / failed', `${v.workflowsRunning} / ${v.workflowsFailed}`],
    ['Segment answers 500 / 429; worker kills landed', `${v.segment500Answers} / ${v.segment429Answers}; ${v.workerKillsLanded}`],
    ['drain after the last fault / the last ack', `${v.drainAfterLastFaultS} s / ${v.drainAfterLastAckS} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `chaos verdict (${name} profile, ${v.seconds} s)`,
    ...rows.map(([k, val]) => `  ${k.padEnd(width)}  ${val}`),
    '  faults (seconds after the load began):',
    ...v.faults.map((f) => `    ${f}`),
  ].join('\n');
}
