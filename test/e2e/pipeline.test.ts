import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { messageIdFor } from '../../src/activities/segment';
import { startCaptureSink, type CaptureSink } from '../../src/segment/capture-sink';
import { SA } from '../../src/temporal/search-attributes';
import { freePort, portOpen, waitUntil } from '../helpers/net';
import { BIN, launchApp, type RunningApp } from '../helpers/app';
import { recordHistory } from '../helpers/histories';
import { postWebhook, signedEvent } from '../helpers/stripe';
import { startOpenAIStandIn, type OpenAIStandIn } from '../helpers/openai-standin';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { slugOf, triggers } from '../../src/catalog/triggers';
import { dryRun } from '../../src/recipes/dry-run';
import { loadRecipes } from '../../src/recipes/loader';
import type { StripeEventWorkflowResult } from '../../src/workflows';
import Stripe from 'stripe';

const ROOT = path.resolve(__dirname, '..', '..');

const RECIPE = 'charge-failed';
const recipes = loadRecipes(path.join(ROOT, 'recipes'), { openai: true, defaultModel: 'gpt-e2e' });
/** What the OpenAI stand-in answers every classify call with. */
const AI = { urgency: 'high', cause: 'fraud' };

/**
 * The real app, as `npm start` runs it (compiled CLI, embedded Temporal dev server, worker,
 * ingress), against a local Segment stand-in, driven over HTTP like Stripe would.
 */
describe('end to end: signed Stripe webhook → Temporal → Segment', () => {
  let running: RunningApp;
  let sink: CaptureSink;
  let client: Client;
  let openai: OpenAIStandIn;
  let env: NodeJS.ProcessEnv;
  let webhookUrl: string;
  let secret: string;
  const output = () => running.output();

  beforeAll(async () => {
    sink = await startCaptureSink();
    openai = await startOpenAIStandIn({ apiKey: 'sk-e2e', fallback: { content: JSON.stringify(AI) } });
    running = await launchApp({
      SEGMENT_WRITE_KEY: 'wk_e2e',
      SEGMENT_HOST: sink.url,
      OPENAI_API_KEY: 'sk-e2e',
      OPENAI_BASE_URL: openai.url,
      OPENAI_MODEL: 'gpt-e2e',
      LOG_LEVEL: 'info',
    });
    env = running.env;
    webhookUrl = `${running.base}/v1/webhooks/stripe`;
    // No STRIPE_WEBHOOK_SECRET: start generated one, kept it in DATA_DIR and printed it.
    secret = readFileSync(path.join(running.dataDir, 'stripe-webhook-secret'), 'utf8').trim();
    expect(output()).toContain(`Stripe webhook secret:     ${secret}`);
    expect(output()).toContain(`stripe listen --forward-to ${webhookUrl}`);
    expect(output()).toContain(`http://127.0.0.1:${running.uiPort}/namespaces/default/workflows`);

    const connection = await Connection.connect({ address: `127.0.0.1:${running.temporalPort}` });
    client = new Client({ connection });
  });

  afterAll(async () => {
    await running?.stop();
    await client?.connection.close();
    await sink?.close();
    await openai?.close();
  });

  const messagesWithId = (id: string) => sink.messages.filter((m) => m.messageId === id);
  const signedPayload = (event: object) => {
    const payload = JSON.stringify(event);
    return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
  };

  it('turns a signed charge.failed into a Segment identify and a completed, searchable run', async () => {
    const { event, payload, signature } = signedEvent(secret, 'charge.failed', { customer: 'cus_e2e_1' });
    const res = await postWebhook(webhookUrl, payload, signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false, workflowId: `stripe/${event.id}` });

    const messageId = messageIdFor(`${event.id}/${RECIPE}/0`);
    await waitUntil(() => messagesWithId(messageId).length > 0, 30_000, 'the identify to reach Segment');
    const [m] = messagesWithId(messageId);
    const charge = (event as any).data.object;
    expect(m).toMatchObject({
      type: 'identify',
      userId: 'cus_e2e_1',
      traits: {
        email: charge.billing_details.email,
        name: charge.billing_details.name,
        phone: charge.billing_details.phone,
        last_payment_failure_code: charge.failure_code,
        last_payment_failure_message: charge.failure_message,
        last_payment_failed_at: new Date(charge.created * 1000).toISOString(),
      },
      context: { stripe: { event_id: event.id } },
    });
    expect(sink.requests.every((r) => r.writeKey === 'wk_e2e')).toBe(true);

    const handle = client.workflow.getHandle(`stripe/${event.id}`);
    const result = await handle.result();
    expect(result.recipes[0]).toMatchObject({
      recipeId: RECIPE,
      outcome: 'delivered',
      steps: [{ type: 'segment.identify', messageId }, { type: 'segment.track', messageId: messageIdFor(`${event.id}/${RECIPE}/1`) }],
    });
    const desc = await handle.describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.typedSearchAttributes.get(SA.eventType)).toBe('charge.failed');
    expect(desc.typedSearchAttributes.get(SA.customerId)).toBe('cus_e2e_1');
    expect(desc.typedSearchAttributes.get(SA.recipeIds)).toEqual([RECIPE]);
    expect(desc.typedSearchAttributes.get(SA.objectId)).toBe(charge.id);
    expect(desc.typedSearchAttributes.get(SA.outcome)).toBe('delivered');
    expect(await desc.staticSummary()).toBe(`charge.failed · cus_e2e_1 · ${charge.currency.toUpperCase()} ${charge.amount / 100} → 1 recipe`);
    expect(desc.memo).toMatchObject({ apiVersion: charge && (event as any).api_version, recipes: [{ id: RECIPE }] });
  });

  it.each(triggers.map((t) => t.type))('delivers %s through its default recipe exactly as the dry run predicts', async (type) => {
    const event = buildTestEvent(type);
    const { payload, signature } = signedPayload(event);
    const res = await postWebhook(`${webhookUrl.replace('/stripe', `/stripe.trigger-${slugOf(type)}`)}`, payload, signature);
    expect(res.status).toBe(200);
    const expected = (await Promise.all(recipes.forEventType(type).map((r) => dryRun(r, event, { ai: AI })))).flatMap((r) => {
      expect(r.outcome).toBe('delivered');
      return r.steps.flatMap((st) => (st.message ? [JSON.parse(JSON.stringify(st.message))] : []));
    });
    expect(expected.length).toBeGreaterThan(0);
    await waitUntil(() => expected.every((m) => messagesWithId(m.messageId).length > 0), 30_000, `the ${type} calls to reach Segment`);
    for (const m of expected) {
      const got = messagesWithId(m.messageId);
      expect(got).toHaveLength(1);
      const { context: _c, ...rest } = m;
      expect(got[0]).toMatchObject(rest);
    }
    const result: StripeEventWorkflowResult = await client.workflow.getHandle(`stripe/${event.id}`).result();
    expect(result.recipes.map((r) => r.outcome)).toEqual(recipes.forEventType(type).map(() => 'delivered'));
    await recordHistory(client, `stripe-${type}`, `stripe/${event.id}`);
  });

  it('classifies a dispute with the model: Segment gets the AI fields, and "Dispute Needs Attention"', async () => {
    const event = buildTestEvent('charge.dispute.created');
    const { payload, signature } = signedPayload(event);
    const before = openai.requests.length;
    expect((await postWebhook(webhookUrl, payload, signature)).status).toBe(200);
    const result: StripeEventWorkflowResult = await client.workflow.getHandle(`stripe/${event.id}`).result();
    expect(result.recipes[0]!.steps.find((st) => st.type === 'classify')).toMatchObject({ ai: AI, model: 'gpt-e2e-standin', usage: { total_tokens: 132 } });
    const mine = sink.messages.filter((m) => (m.context as any)?.stripe?.event_id === event.id);
    expect(mine.map((m) => [m.event, (m.properties as any).urgency, (m.properties as any).likely_cause])).toEqual([
      ['Dispute Created', 'high', 'fraud'],
      ['Dispute Needs Attention', 'high', 'fraud'],
    ]);
    const [req] = openai.requests.slice(before);
    expect(req!.problems).toEqual([]);
    expect(req!.model).toBe('gpt-e2e');
    // Data minimisation: the model sees the picked fields only, never the payer's email or the payload.
    const sent = JSON.parse(req!.body.messages[1].content);
    expect(Object.keys(sent).sort()).toEqual(['amount', 'charge_refundable', 'currency', 'evidence_due_in_days', 'network_reason_code', 'reason']);
  });

  it('opens a dunning sequence on a failed invoice; `dunning list | show | cancel` operate it', async () => {
    const event = buildTestEvent('invoice.payment_failed');
    const key = `in_e2e_${event.id.slice(-8)}`;
    event.data.object.id = key;
    const { payload, signature } = signedPayload(event);
    expect((await postWebhook(webhookUrl, payload, signature)).status).toBe(200);
    await client.workflow.getHandle(`stripe/${event.id}`).result();
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, 'dunning', ...args], { cwd: ROOT, env });

    const list = await cli('list');
    expect(list.stdout).toMatch(new RegExp(`^${key}\\s+step 0/3\\s+next \\S+\\s+attempts 1`, 'm'));
    const shown = JSON.parse((await cli('show', key)).stdout);
    expect(shown).toMatchObject({ key, status: 'waiting', stage: 0, steps: 3, attempts: 1, details: { amount_due: 29, currency: 'USD' } });
    expect((await cli('cancel', key)).stdout).toBe(`dunning ${key}: cancellation requested\n`);
    await waitUntil(async () => (await client.workflow.getHandle(`dunning/${key}`).describe()).status.name === 'CANCELLED', 10_000, 'the sequence to be cancelled');
    await expect(cli('show', 'in_nothing_here')).rejects.toMatchObject({ stderr: 'stripe-segment: No dunning sequence for "in_nothing_here".\n' });
  });

  it('makes a duplicate delivery, even a concurrent one, neither a second run nor a second message', async () => {
    const { event, payload, signature } = signedEvent(secret, 'charge.failed', { customer: 'cus_e2e_dup' });
    const concurrent = await Promise.all([1, 2, 3].map(() => postWebhook(webhookUrl, payload, signature)));
    const bodies = (await Promise.all(concurrent.map((r) => r.json()))) as Array<{ duplicate: boolean }>;
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(bodies.filter((b) => b.duplicate === false)).toHaveLength(1);

    await client.workflow.getHandle(`stripe/${event.id}`).result();
    // Stripe retries a delivery it thinks failed, hours later: still the same run.
    const late = await postWebhook(webhookUrl, payload, signature);
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ duplicate: true });

    await waitUntil(
      async () => (await client.workflow.count(`WorkflowId = "stripe/${event.id}"`)).count === 1,
      10_000,
      'visibility to list the run',
    );
    await new Promise((r) => setTimeout(r, 1000)); // room for a wrong second message to arrive
    expect(messagesWithId(messageIdFor(`${event.id}/${RECIPE}/0`))).toHaveLength(1);
    expect((await client.workflow.count(`WorkflowId = "stripe/${event.id}"`)).count).toBe(1);
  });

  it('answers 400 to a bad signature and starts nothing', async () => {
    const { event, payload, signature } = signedEvent('whsec_forged', 'charge.failed');
    const res = await postWebhook(webhookUrl, payload, signature);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_signature' });
    await expect(client.workflow.getHandle(`stripe/${event.id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(sink.messages.filter((m) => (m.context as any)?.stripe?.event_id === event.id)).toHaveLength(0);
  });

  it('`stripe-segment send-test-event charge.failed` signs and posts a realistic event', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'send-test-event', 'charge.failed', '--customer', 'cus_e2e_cli'], {
      cwd: ROOT,
      env,
    });
    const [, eventId] = /^charge\.failed (evt_test_\w+) → HTTP 200 /.exec(stdout) ?? [];
    expect(eventId).toBeDefined();
    const messageId = messageIdFor(`${eventId}/${RECIPE}/0`);
    await waitUntil(() => messagesWithId(messageId).length > 0, 30_000, 'the test event to reach Segment');
    expect(messagesWithId(messageId)[0]).toMatchObject({ type: 'identify', userId: 'cus_e2e_cli' });
  });

  it('shuts down cleanly on SIGTERM, stopping the embedded Temporal server', async () => {
    running.process.kill('SIGTERM');
    await waitUntil(() => running.exitCode() !== undefined, 30_000, 'the app to exit');
    expect(running.exitCode()).toBe(0);
    expect(await portOpen(running.temporalPort)).toBe(false);
  });
});

/** `npm start` with no SEGMENT_WRITE_KEY: the local capture sink, and publishing a recipe edit with SIGHUP. */
describe('end to end: capture sink and recipe reload', () => {
  let running: RunningApp;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let sinkUrl: string;
  let recipesDir: string;
  const secret = 'whsec_e2e_sink';
  const output = () => running.output();

  beforeAll(async () => {
    const sinkPort = await freePort();
    recipesDir = mkdtempSync(path.join(os.tmpdir(), 'ss-e2e-recipes-'));
    copyFileSync(path.join(ROOT, 'recipes', `${RECIPE}.json`), path.join(recipesDir, `${RECIPE}.json`));
    running = await launchApp({ RECIPES_DIR: recipesDir, STRIPE_WEBHOOK_SECRET: secret, SEGMENT_SINK_PORT: String(sinkPort) });
    env = running.env;
    base = running.base;
    sinkUrl = `http://127.0.0.1:${sinkPort}`;
  });

  afterAll(() => running?.stop());

  const captured = async () => (await (await fetch(`${sinkUrl}/messages`)).json()) as Array<{ messageId: string; userId?: string; traits?: any }>;

  it('captures and logs Segment calls locally when SEGMENT_WRITE_KEY is unset', async () => {
    expect(output()).toContain(`Segment capture sink:      ${sinkUrl}/messages`);
    const { event, payload, signature } = signedEvent(secret, 'charge.failed', { customer: 'cus_sink_1' });
    expect((await postWebhook(`${base}/v1/webhooks/stripe`, payload, signature)).status).toBe(200);
    const messageId = messageIdFor(`${event.id}/${RECIPE}/0`);
    await waitUntil(async () => (await captured()).some((m) => m.messageId === messageId), 30_000, 'the sink to capture the identify');
    expect((await captured()).find((m) => m.messageId === messageId)).toMatchObject({ userId: 'cus_sink_1' });
    await waitUntil(() => output().includes('segment capture sink: identify cus_sink_1'), 5000, 'the sink to log the call');
  });

  it('publishes an edited recipe on SIGHUP; the next run records the new version', async () => {
    const file = path.join(recipesDir, `${RECIPE}.json`);
    const recipe = JSON.parse(readFileSync(file, 'utf8'));
    recipe.steps[0].map.traits = "{ 'plan_at_risk': true }";
    writeFileSync(file, JSON.stringify(recipe, null, 2));
    const version = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'recipes', 'reload'], { cwd: ROOT, env });
    expect(stdout).toMatch(/^recipes valid; reload requested from process \d+/);
    await waitUntil(() => output().includes(`${RECIPE}@${version}`), 10_000, 'the reload to be logged');

    const { event, payload, signature } = signedEvent(secret, 'charge.failed', { customer: 'cus_sink_2' });
    const res = await postWebhook(`${base}/v1/webhooks/stripe`, payload, signature);
    expect(res.status).toBe(200);
    const messageId = messageIdFor(`${event.id}/${RECIPE}/0`);
    await waitUntil(async () => (await captured()).some((m) => m.messageId === messageId), 30_000, 'the identify with the new mapping');
    expect((await captured()).find((m) => m.messageId === messageId)?.traits).toEqual({ plan_at_risk: true });
    const connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}` });
    try {
      const desc = await new Client({ connection }).workflow.getHandle(`stripe/${event.id}`).describe();
      expect(desc.memo).toMatchObject({ recipes: [{ id: RECIPE, version }] });
    } finally {
      await connection.close();
    }
  });

  it('keeps the published recipes when an edit is invalid', async () => {
    const file = path.join(recipesDir, `${RECIPE}.json`);
    writeFileSync(file, '{ "id": "broken" ');
    running.process.kill('SIGHUP');
    await waitUntil(() => output().includes('recipe reload refused'), 10_000, 'the refusal to be logged');
    const line = output().split('\n').find((l) => l.includes('recipe reload refused'));
    expect(line).toContain('charge-failed.json: not valid JSON');
    const { payload, signature } = signedEvent(secret, 'charge.failed');
    expect((await postWebhook(`${base}/v1/webhooks/stripe`, payload, signature)).status).toBe(200);
  });
});
