import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import Stripe from 'stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { dunningWorkflowId } from '../activities/dunning';
import { connectClient } from '../temporal/connection';
import { statusQuery } from '../workflows/dunning';
import { buildTestEvent, fixtureTypes } from '../catalog/fixtures';
import { ConfigError, loadConfig, recipeLoadOptions, resolveWebhookSecrets, type Config } from '../config';
import { createLogger } from '../logger';
import { dryRun } from '../recipes/dry-run';
import { loadRecipes, RecipeError } from '../recipes/loader';
import { MissingBinaryError } from '../temporal/binaries';
import { VERSION } from '../version';
import { startService, type Roles, type RunningService } from './service';

function banner(config: Config, svc: RunningService): string {
  const lines = [
    '',
    'stripe-segment is running',
    `  Ingress (Stripe webhooks): ${svc.ingressUrl}/v1/webhooks/stripe`,
    `  Temporal:                  ${svc.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
  ];
  if (svc.uiUrl) lines.push(`  Temporal Web UI:           ${svc.uiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows`);
  if (svc.sinkUrl) lines.push(`  Segment capture sink:      ${svc.sinkUrl}/messages  (no SEGMENT_WRITE_KEY: calls are captured and logged here)`);
  if (svc.generatedSecretFile) {
    lines.push(
      `  Stripe webhook secret:     ${svc.secrets[0]}`,
      `                             (generated and kept in ${svc.generatedSecretFile}; set STRIPE_WEBHOOK_SECRET to use your own)`,
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
  const notFound = (key: string) => (err: unknown) => {
    if (err instanceof WorkflowNotFoundError) throw new UserError(`No dunning sequence for "${key}".`);
    throw err;
  };
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

  return program;
}

/** An error whose message tells a person what to do; printed without a stack. */
class UserError extends Error {}

function explain(err: unknown): string {
  if (err instanceof RecipeError) return `Recipe error: ${err.message}`;
  if (err instanceof ConfigError || err instanceof MissingBinaryError || err instanceof UserError) return err.message;
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
