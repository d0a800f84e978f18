import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import Stripe from 'stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { Presets, SingleBar } from 'cli-progress';
import { createStripeClient } from '../activities/stripe';
import { backfill, backfillTypes, parseSince } from '../runs/backfill';
import { eventRuns, formatReport, listRuns, OUTCOMES, runsQuery, type RunsFilter } from '../runs/inspect';
import { retryRun, RetryRefused } from '../runs/retry';
import { stripeWorkflowId } from '../runs/start';
import type { RunOutcome } from '../workflows';
import { registerWebhook, webhookStatus } from './webhooks';
import { dunningWorkflowId } from '../activities/dunning';
import { connectClient } from '../temporal/connection';
import { statusQuery } from '../workflows/dunning';
import { buildTestEvent, fixtureTypes } from '../catalog/fixtures';
import { ConfigError, loadConfig, recipeLoadOptions, resolveWebhookSecrets, secretForDisplay, storeWebhookSecret, type Config } from '../config';
import { createLogger } from '../logger';
import { dryRun } from '../recipes/dry-run';
import { loadRecipes, RecipeError } from '../recipes/loader';
import { ListenError } from '../api/server';
import { MissingBinaryError } from '../temporal/binaries';
import { namespaceRetentionSeconds } from '../temporal/namespace-setup';
import { VERSION } from '../version';
import { startService, type Roles, type RunningService } from './service';

/** A commander option parser: a whole number of at least 1, or a usage error that says so. */
function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`must be a whole number of at least 1 (got "${value}")`);
  return n;
}

function banner(config: Config, svc: RunningService): string {
  const lines = [
    '',
    'stripe-segment is running',
    `  Ingress (Stripe webhooks): ${svc.ingressUrl}/v1/webhooks/stripe`,
    `  Temporal:                  ${svc.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
  ];
  if (svc.uiUrl) lines.push(`  Temporal Web UI:           ${svc.uiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows`);
  if (svc.sinkUrl) lines.push(`  Segment capture sink:      ${svc.sinkUrl}/messages  (no SEGMENT_WRITE_KEY: calls are captured and logged here)`);
  const kept = svc.webhookSecrets;
  if (kept?.generatedFile) {
    lines.push(
      `  Stripe webhook secret:     ${secretForDisplay(kept)}`,
      kept.generatedNow
        ? `                             (generated now and kept in ${kept.generatedFile}; STRIPE_WEBHOOK_SECRET overrides it)`
        : `                             (its ends; whole in ${kept.generatedFile}: generated earlier, or stored by \`webhooks register\`; STRIPE_WEBHOOK_SECRET overrides it)`,
    );
  }
  lines.push(
    '',
    'Forward Stripe events with the Stripe CLI, then set STRIPE_WEBHOOK_SECRET to the secret it prints:',
    `  stripe listen --forward-to ${svc.ingressUrl}/v1/webhooks/stripe`,
    'Or send a signed test event:',
    '  npx stripe-segment send-test-event charge.failed',
    '',
  );
  return lines.join('\n');
}

async function run(roles: Roles): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const svc = await startService(config, logger, roles);
  if (roles.api) process.stdout.write(`${banner(config, svc)}\n`);
  // `stripe-segment recipes reload` signals the process named here.
  const pidFile = path.join(config.dataDir, 'stripe-segment.pid');
  if (roles.api) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(pidFile, `${process.pid}\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests and activities');
    if (roles.api) rmSync(pidFile, { force: true });
    await svc.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => {
    try {
      svc.reloadRecipes();
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'recipe reload refused; the previous recipes stay published');
    }
  });
  await svc.done;
  if (!stopping) {
    logger.error('the worker stopped unexpectedly');
    await svc.stop();
    process.exit(1);
  }
}

export function buildProgram(): Command {
  const program = new Command('stripe-segment')
    .description('Durable Stripe ⇄ Segment integration on Temporal')
    .version(VERSION);

  program
    .command('start')
    .description('Run everything: the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set), the worker and the ingress')
    .action(() => run({ embedded: true, api: true, worker: true }));

  program
    .command('worker')
    .description('Run only the worker (connects to TEMPORAL_ADDRESS)')
    .action(() => run({ embedded: false, api: false, worker: true }));

  program
    .command('api')
    .description('Run only the ingress (connects to TEMPORAL_ADDRESS)')
    .action(() => run({ embedded: false, api: true, worker: false }));

  program
    .command('send-test-event')
    .description(`Sign a realistic Stripe event and post it to the ingress (types: ${fixtureTypes.join(', ')})`)
    .argument('<type>', 'Stripe event type', (v) => {
      if (!fixtureTypes.includes(v)) throw new InvalidArgumentError(`no fixture for "${v}"; available: ${fixtureTypes.join(', ')}`);
      return v;
    })
    .option('--url <url>', 'ingress webhook URL (default http://localhost:$PORT/v1/webhooks/stripe)')
    .option('--id <eventId>', 'event id (default: a new unique evt_test_… id)')
    .option('--customer <customerId>', 'Stripe customer id to put on the event')
    .action(async (type: string, opts: { url?: string; id?: string; customer?: string }) => {
      const config = loadConfig();
      const [secret] = resolveWebhookSecrets(config).secrets;
      const event = buildTestEvent(type, { id: opts.id, customer: opts.customer });
      const payload = JSON.stringify(event);
      const url = opts.url ?? `http://localhost:${config.PORT}/v1/webhooks/stripe`;
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: secret! });
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      }).catch((err: Error & { cause?: { code?: string; message?: string } }) => {
        const why = err.cause?.code ?? err.cause?.message ?? err.message;
        throw new UserError(`Cannot reach ${url}: ${why}. Is stripe-segment running (npm start)?`);
      });
      const body = await res.text();
      process.stdout.write(`${type} ${event.id} → HTTP ${res.status} ${body}\n`);
      if (!res.ok) process.exitCode = 1;
    });

  const recipes = program.command('recipes').description('Inspect, check and publish recipes (RECIPES_DIR)');
  recipes
    .command('list')
    .description('List the recipes with trigger, version and steps')
    .action(() => {
      const config = loadConfig();
      const set = loadRecipes(config.recipesDir, recipeLoadOptions(config));
      for (const r of set.recipes) {
        process.stdout.write(
          `${r.enabled ? '●' : '○'} ${r.id.padEnd(24)} ${r.trigger.padEnd(32)} ${r.version}  ${r.steps.map((s) => s.type).join(' → ')}\n`,
        );
      }
    });
  recipes
    .command('validate')
    .description('Load and compile every recipe; exit 1 with the file, field and reason of the first error')
    .argument('[dir]', 'folder of recipes (default RECIPES_DIR)')
    .action((dir?: string) => {
      const config = loadConfig();
      const set = loadRecipes(dir ? path.resolve(dir) : config.recipesDir, recipeLoadOptions(config));
      process.stdout.write(`${set.recipes.length} recipe(s) valid; published triggers: ${set.triggers.join(', ')}\n`);
    });
  recipes
    .command('dry-run')
    .description('Run a recipe against a Stripe event file: prints the filter verdict and the exact Segment calls. No network.')
    .argument('<recipe>', 'recipe id')
    .requiredOption('--event <file>', 'a Stripe event (JSON), e.g. from `stripe events retrieve`')
    .option('--lookup <name=file...>', 'a Stripe object for a stripe.lookup step, e.g. charge=charge.json')
    .option('--ai <file>', 'the `ai` fields a classify step would give, e.g. {"urgency": "high"}')
    .action(async (id: string, opts: { event: string; lookup?: string[]; ai?: string }) => {
      // The dry run calls no model, so classify steps load as if OPENAI_API_KEY were set.
      const config = loadConfig();
      const set = loadRecipes(config.recipesDir, { ...recipeLoadOptions(config), openai: true });
      const recipe = set.byId(id);
      if (!recipe) throw new UserError(`No recipe "${id}". Recipes: ${set.recipes.map((r) => r.id).join(', ')}`);
      const readJson = (file: string) => {
        try {
          return JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new UserError(`Cannot read ${file}: ${(err as Error).message}`);
        }
      };
      const event = readJson(opts.event);
      if (event?.type !== recipe.trigger) {
        process.stderr.write(`note: the event is ${event?.type}; recipe ${id} is triggered by ${recipe.trigger}\n`);
      }
      const lookups = Object.fromEntries(
        (opts.lookup ?? []).map((pair) => {
          const [name, file] = pair.split('=');
          if (!name || !file) throw new UserError(`--lookup takes name=file, got "${pair}"`);
          return [name, readJson(file)];
        }),
      );
      const result = await dryRun(recipe, event, { lookups, ...(opts.ai ? { ai: readJson(opts.ai) } : {}) });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (result.outcome === 'failed') process.exitCode = 1;
    });
  recipes
    .command('reload')
    .description('Publish edited recipes: tell the running `stripe-segment start` to reload them (SIGHUP)')
    .action(() => {
      const config = loadConfig();
      loadRecipes(config.recipesDir, recipeLoadOptions(config)); // refuse before signalling: the service would keep the old set anyway
      const pidFile = path.join(config.dataDir, 'stripe-segment.pid');
      if (!existsSync(pidFile)) throw new UserError(`No running stripe-segment found (${pidFile} is missing). Is it started with this DATA_DIR?`);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      try {
        process.kill(pid, 'SIGHUP');
      } catch (err) {
        throw new UserError(`Cannot signal process ${pid} from ${pidFile}: ${(err as Error).message}`);
      }
      process.stdout.write(`recipes valid; reload requested from process ${pid}\n`);
    });

  const dunning = program.command('dunning').description('Dunning sequences (needs the service’s Temporal: TEMPORAL_ADDRESS or the embedded one)');
  const withClient = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const config = loadConfig();
    let client: Client;
    try {
      client = await connectClient(config);
    } catch (err) {
      throw new UserError(`Cannot reach Temporal at ${config.temporalAddress}: ${(err as Error).message}. Is stripe-segment running?`);
    }
    try {
      return await fn(client);
    } finally {
      await client.connection.close();
    }
  };
  const keyHandle = (client: Client, key: string) => client.workflow.getHandle(dunningWorkflowId(key));
  /** A workflow Temporal does not know becomes a UserError with this message. */
  const ifNotFound = (message: string) => (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === GRPC_NOT_FOUND) throw new UserError(message);
    throw err;
  };
  const notFound = (key: string) => ifNotFound(`No dunning sequence for "${key}".`);
  dunning
    .command('list')
    .description('Open sequences: key, step reached, next step, attempts')
    .action(() =>
      withClient(async (client) => {
        let count = 0;
        for await (const wf of client.workflow.list({ query: `WorkflowType = "dunningWorkflow" AND ExecutionStatus = "Running"` })) {
          const s = await keyHandle(client, wf.workflowId.slice('dunning/'.length)).query(statusQuery);
          process.stdout.write(`${s.key.padEnd(32)} step ${s.stage}/${s.steps}  next ${s.nextStepAt ?? '—'}  attempts ${s.attempts}  opened ${s.openedAt}\n`);
          count++;
        }
        process.stdout.write(`${count} open sequence(s)\n`);
      }),
    );
  dunning
    .command('show')
    .argument('<key>', 'the sequence key, e.g. an invoice id')
    .description('Status of one sequence (the workflow’s status query)')
    .action((key: string) =>
      withClient(async (client) => {
        const status = await keyHandle(client, key).query(statusQuery).catch(notFound(key));
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      }),
    );
  dunning
    .command('cancel')
    .argument('<key>', 'the sequence key')
    .description('Stop a sequence: no further steps are sent')
    .action((key: string) =>
      withClient(async (client) => {
        await keyHandle(client, key).cancel().catch(notFound(key));
        process.stdout.write(`dunning ${key}: cancellation requested\n`);
      }),
    );

  const stripeApi = (config: Config, why: string) => {
    if (!config.STRIPE_API_KEY) throw new UserError(`STRIPE_API_KEY is not set: ${why} needs the Stripe API (a restricted key is enough).`);
    return createStripeClient(config.STRIPE_API_KEY, config.STRIPE_API_BASE, { maxNetworkRetries: 2 });
  };
  const stripeFailure = (what: string) => (err: unknown): never => {
    if (err instanceof Stripe.errors.StripeError) {
      const hint = err.statusCode === 401 || err.statusCode === 403 ? ' Check STRIPE_API_KEY.' : '';
      throw new UserError(`${what}: Stripe answered ${err.statusCode ?? 'no response'}: ${err.message}.${hint}`);
    }
    throw err;
  };

  const runs = program.command('runs').description('The run log: one Temporal workflow per Stripe event (the same runs the Web UI shows)');
  runs
    .command('list')
    .description('Runs, newest first, filtered by search attributes')
    .option('--type <eventType>', 'Stripe event type, e.g. charge.failed')
    .option('--customer <customerId>', 'Stripe customer id, e.g. cus_123')
    .option('--outcome <outcome>', `how the run ended: ${OUTCOMES.join(', ')}`, (v) => {
      if (!OUTCOMES.includes(v as RunOutcome)) throw new InvalidArgumentError(`must be one of ${OUTCOMES.join(', ')}`);
      return v as RunOutcome;
    })
    .option('--status <status>', 'Temporal status: Running, Completed, Failed, Terminated')
    .option('--since <duration|date>', 'started within this duration (2h, 7d) or since this date', (v) => {
      try {
        return new Date(parseSince(v, Date.now(), Infinity) * 1000);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .option('--limit <n>', 'at most this many runs', positiveInt, 50)
    .option('--query', 'print the visibility query (paste it into the Web UI search) and exit')
    .action((opts: RunsFilter & { limit: number; query?: boolean }) => {
      if (opts.query) return void process.stdout.write(`${runsQuery(opts)}\n`);
      return withClient(async (client) => {
        const rows = await listRuns(client, opts, opts.limit);
        for (const r of rows) {
          process.stdout.write(
            `${r.startTime.toISOString()}  ${r.eventId.padEnd(30)} ${(r.eventType ?? '').padEnd(30)} ${(r.customerId ?? '—').padEnd(20)} ${r.status.padEnd(10)} ${r.outcome ?? ''}\n`,
          );
        }
        process.stdout.write(`${rows.length} run(s)  [${runsQuery(opts)}]\n`);
      });
    });
  runs
    .command('show')
    .argument('<eventId>', 'Stripe event id (evt_…)')
    .option('--json', 'print the reports as JSON')
    .description('Every run of one event: recipes, steps, Segment messageIds, errors; or what a running one is retrying')
    .action((eventId: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const reports = await eventRuns(client, eventId);
        if (reports.length === 0) throw new UserError(`No run for Stripe event ${eventId}.`);
        process.stdout.write(`${opts.json ? JSON.stringify(reports, null, 2) : formatReport(reports)}\n`);
      }),
    );
  runs
    .command('retry')
    .argument('<eventId>', 'Stripe event id (evt_…)')
    .option('--recipe <id...>', 'only these failed recipes (default: every failed recipe)')
    .option('--original', 'run the recipe versions the event first ran with (default: the published versions)')
    .option('--wait', 'wait for the retry to finish and show it')
    .description('Re-drive the failed recipes of an event in a new run under the same workflow id')
    .action((eventId: string, opts: { recipe?: string[]; original?: boolean; wait?: boolean }) =>
      withClient(async (client) => {
        const config = loadConfig();
        const published = loadRecipes(config.recipesDir, recipeLoadOptions(config));
        const result = await retryRun(client, eventId, { recipeIds: opts.recipe, original: opts.original, published, taskQueue: config.TEMPORAL_TASK_QUEUE }).catch(
          (err: unknown) => {
            throw err instanceof RetryRefused ? new UserError(err.message) : err;
          },
        );
        process.stdout.write(
          `retrying ${eventId}: run ${result.runId} with ${result.recipes.map((r) => `${r.id}@${r.version} (${r.source})`).join(', ')}\n`,
        );
        if (opts.wait) {
          await client.workflow.getHandle(result.workflowId, result.runId, { followRuns: false }).result().catch(() => undefined);
          const reports = await eventRuns(client, eventId);
          process.stdout.write(`${formatReport(reports)}\n`);
          if (reports.find((r) => r.runId === result.runId)?.status !== 'COMPLETED') process.exitCode = 1;
        }
      }),
    );
  runs
    .command('terminate')
    .argument('<eventId>', 'Stripe event id (evt_…)')
    .requiredOption('--reason <text>', 'why, recorded in the history')
    .description('Stop a running run at once (no further attempts); `runs retry` can re-drive it later')
    .action((eventId: string, opts: { reason: string }) =>
      withClient(async (client) => {
        await client.workflow
          .getHandle(stripeWorkflowId(eventId))
          .terminate(opts.reason)
          .catch(ifNotFound(`No running run for Stripe event ${eventId}.`));
        process.stdout.write(`terminated ${stripeWorkflowId(eventId)}: ${opts.reason}\n`);
      }),
    );

  program
    .command('replay')
    .argument('<workflowId>', 'a run to check: an event id (evt_…) or any workflow id (stripe/…, dunning/…)')
    .description('Replay a run’s history against this code: fails if a change would break running workflows')
    .action((id: string) =>
      withClient(async (client) => {
        const workflowId = id.includes('/') ? id : stripeWorkflowId(id);
        const history = await client.workflow
          .getHandle(workflowId)
          .fetchHistory()
          .catch(ifNotFound(`No workflow ${workflowId}.`));
        await Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows'), replayName: workflowId }, history).catch((err: Error) => {
          throw new UserError(`${workflowId} does NOT replay on this code: ${err.message}\nGuard the change with patched() (README "Changing a workflow").`);
        });
        process.stdout.write(`${workflowId}: ${history.events?.length ?? 0} history events replay on this code\n`);
      }),
    );

  program
    .command('backfill')
    .description('Start runs for Stripe events missed while the ingress was down (Stripe Events API; events already processed are skipped)')
    .requiredOption('--since <duration|date>', 'how far back: a duration (90m, 36h, 7d) or a date (2026-11-30); at most 30 days')
    .option('--types <types...>', 'only these event types (default: every published trigger)')
    .option('--concurrency <n>', 'starts in flight at once', positiveInt, 8)
    .option('--beyond-retention', 'allow --since before the namespace retention: events processed that long ago are no longer known and run again')
    .action((opts: { since: string; types?: string[]; concurrency: number; beyondRetention?: boolean }) => {
      const config = loadConfig();
      let since: number;
      try {
        since = parseSince(opts.since);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const recipeSet = loadRecipes(config.recipesDir, recipeLoadOptions(config));
      let types: string[];
      try {
        types = backfillTypes(recipeSet, opts.types);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const stripe = stripeApi(config, 'backfill');
      return withClient(async (client) => {
        const retention = await namespaceRetentionSeconds(client.connection, config.TEMPORAL_NAMESPACE);
        if (retention > 0 && Date.now() / 1000 - since > retention && !opts.beyondRetention) {
          throw new UserError(
            `--since ${opts.since} reaches past the namespace retention (${Math.round(retention / 3600)} h): runs older than that are deleted, so events processed then would run again. Pass --beyond-retention to do it anyway.`,
          );
        }
        const bar = process.stderr.isTTY ? new SingleBar({ format: ' {bar} {value}/{total} events · started {started} · already done {alreadyDone} · failed {failed}', hideCursor: true }, Presets.shades_classic) : undefined;
        const begun = Date.now();
        process.stderr.write(`listing ${types.join(', ')} since ${new Date(since * 1000).toISOString()}…\n`);
        const summary = await backfill({
          client,
          stripe,
          recipes: recipeSet,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          since,
          types,
          livemode: config.STRIPE_LIVEMODE,
          concurrency: opts.concurrency,
          via: 'backfill',
          onProgress: (s) => {
            if (!bar) return;
            if (bar.getTotal() !== s.seen) bar.start(s.seen, 0, { started: 0, alreadyDone: 0, failed: 0 });
            bar.update(s.started + s.alreadyDone + s.ignored + s.failed, { started: s.started, alreadyDone: s.alreadyDone, failed: s.failed });
          },
        })
          .catch(stripeFailure('Listing events'))
          .finally(() => bar?.stop());
        const seconds = ((Date.now() - begun) / 1000).toFixed(1);
        process.stdout.write(
          `backfill: seen ${summary.seen}, started ${summary.started}, already done ${summary.alreadyDone}, ignored ${summary.ignored}, failed ${summary.failed} in ${seconds} s\n`,
        );
        for (const f of summary.failures.slice(0, 20)) process.stdout.write(`  failed ${f.eventId}: ${f.error}\n`);
        if (summary.failed > 0) {
          process.stdout.write('Run the same backfill again to retry the failed ones; the others are skipped.\n');
          process.exitCode = 1;
        }
      });
    });

  const webhooks = program.command('webhooks').description('The Stripe webhook endpoint that sends events to the ingress');
  webhooks
    .command('register')
    .requiredOption('--url <url>', 'the public URL of the ingress, e.g. https://hooks.example.com/v1/webhooks/stripe')
    .description('Create the endpoint with the published triggers as its events, or update the one for that URL (never a second)')
    .action(async (opts: { url: string }) => {
      if (!/^https?:\/\/[^/]+/.test(opts.url)) throw new UserError(`--url must be an absolute http(s) URL (got "${opts.url}").`);
      const config = loadConfig();
      const triggers = loadRecipes(config.recipesDir, recipeLoadOptions(config)).triggers;
      const stripe = stripeApi(config, 'webhooks register');
      const result = await registerWebhook(stripe, opts.url, triggers).catch(stripeFailure('Registering the webhook endpoint'));
      process.stdout.write(`${result.action} ${result.endpoint.id} ${result.endpoint.url} (${result.endpoint.status}): ${result.endpoint.enabled_events.join(', ')}\n`);
      if (result.endpoint.status === 'disabled') process.stdout.write('warning: the endpoint is disabled in Stripe; enable it in the Dashboard to receive events.\n');
      if (result.duplicates.length > 0) {
        process.stdout.write(`warning: other endpoints also send to this URL (${result.duplicates.join(', ')}); delete them in the Dashboard or every event arrives twice (harmless, but noisy).\n`);
      }
      if (result.secret) {
        const file = storeWebhookSecret(config.dataDir, result.secret);
        process.stdout.write(`signing secret stored in ${file}; restart stripe-segment to use it\n`);
        if (config.STRIPE_WEBHOOK_SECRET) process.stdout.write('warning: STRIPE_WEBHOOK_SECRET is set and overrides that file; set it to the new secret.\n');
      } else if (result.action === 'created') {
        process.stdout.write('note: Stripe returned no signing secret; copy it from the Dashboard into STRIPE_WEBHOOK_SECRET.\n');
      }
    });
  webhooks
    .command('status')
    .option('--url <url>', 'only the endpoint for this URL')
    .description('The webhook endpoints, their events, and any published trigger an endpoint does not send')
    .action(async (opts: { url?: string }) => {
      const config = loadConfig();
      const triggers = loadRecipes(config.recipesDir, recipeLoadOptions(config)).triggers;
      const stripe = stripeApi(config, 'webhooks status');
      const endpoints = await webhookStatus(stripe, triggers, opts.url).catch(stripeFailure('Listing webhook endpoints'));
      for (const e of endpoints) {
        process.stdout.write(`${e.id} ${e.url} ${e.status}${e.managed ? ' (managed by stripe-segment)' : ''}\n  events: ${e.enabledEvents.join(', ')}\n`);
        process.stdout.write(e.missing.length > 0 ? `  MISSING triggers: ${e.missing.join(', ')} (run \`stripe-segment webhooks register --url ${e.url}\`)\n` : '  every published trigger is sent\n');
      }
      if (endpoints.length === 0) {
        process.stdout.write(opts.url ? `No endpoint for ${opts.url}; run \`stripe-segment webhooks register --url ${opts.url}\`.\n` : 'No webhook endpoint.\n');
      }
      if (endpoints.length === 0 || endpoints.some((e) => e.missing.length > 0 || e.status !== 'enabled')) process.exitCode = 1;
    });

  return program;
}

const GRPC_NOT_FOUND = 5;

/** An error whose message tells a person what to do; printed without a stack. */
class UserError extends Error {}

function explain(err: unknown): string {
  if (err instanceof RecipeError) return `Recipe error: ${err.message}`;
  if (err instanceof ConfigError || err instanceof MissingBinaryError || err instanceof UserError || err instanceof ListenError) return err.message;
  return (err as Error)?.stack ?? String(err);
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`stripe-segment: ${explain(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void main();
