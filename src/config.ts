import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DURATION, durationMs } from './duration';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be 0-65535')
    .max(65535, 'must be 0-65535')
    .default(fallback);

const url = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL such as http://localhost:8088' });
const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

/** Environment variables, as documented in README "Configuration". */
const envSchema = z.object({
  PORT: port(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1, 'must be at least 1').max(86_400).default(300),
  STRIPE_LIVEMODE: z.enum(['test', 'live', 'both'], { error: 'must be test, live or both' }).default('both'),
  STRIPE_API_KEY: optionalString,
  STRIPE_API_BASE: url.optional(),
  SEGMENT_WRITE_KEY: optionalString,
  SEGMENT_HOST: url.default('https://api.segment.io'),
  SEGMENT_FLUSH_INTERVAL_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  SEGMENT_SINK_PORT: port(8088),
  SEGMENT_WEBHOOK_SECRET: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url.optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('stripe-segment'),
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_DEV_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  // WAL with synchronous=full: durable on power loss (an acked event survives), about 1.8x the
  // workflow throughput of the default rollback journal (bench/README.md).
  TEMPORAL_SQLITE_PRAGMAS: z
    .string()
    .default('journal_mode=wal,synchronous=full')
    .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z_]+=[\w-]+$/i, 'pragmas are comma-separated PRAGMA=VALUE pairs'))),
  // Reconciliation: a Temporal Schedule lists recent Stripe events and starts any run the ingress
  // missed. Off unless set (e.g. 15m); needs STRIPE_API_KEY.
  RECONCILE_INTERVAL: z
    .string()
    .trim()
    .toLowerCase()
    .refine((s) => s === 'off' || DURATION.test(s), 'must be a duration such as 15m or 1h, or off')
    .transform((s) => (s === 'off' ? undefined : durationMs(s) / 1000))
    .refine((s) => s === undefined || s >= 60, 'must be at least 1m')
    .optional(),
  // How far back the first reconciliation looks; later ones resume from their checkpoint.
  RECONCILE_LOOKBACK: z
    .string()
    .trim()
    .regex(DURATION, 'must be a duration such as 1h or 3d')
    .transform((s) => durationMs(s) / 1000)
    .refine((s) => s <= 30 * 86_400, 'must be 30d or less (Stripe keeps events for 30 days)')
    .default(3600),
  // Worker capacity (bench/README.md measures them). Fixed slot counts, or a resource-based tuner
  // that hands out slots only while the machine's CPU is under the target (0.1-1).
  TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2, 'must be at least 2 (the SDK needs a slot for its sticky queue)').max(1000).optional(),
  TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  TEMPORAL_WORKER_TARGET_CPU: z.coerce.number().min(0.1, 'must be between 0.1 and 1').max(1, 'must be between 0.1 and 1').optional(),
  // The worker loads the workflow bundle pre-built by `npm run build` (when it matches the code),
  // or bundles at start with webpack (`build`).
  TEMPORAL_WORKFLOW_BUNDLE: z.enum(['prebuilt', 'build'], { error: 'must be prebuilt or build' }).default('prebuilt'),
  // With the ingress and the worker in one process (`start`), ask the server to hand each new run
  // straight to this worker (eager workflow start). Off: measured slower here (bench/README.md).
  TEMPORAL_EAGER_START: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  RECIPES_DIR: z.string().min(1).default('./recipes'),
  DATA_DIR: z.string().min(1).default('./.data'),
});

export type Env = z.infer<typeof envSchema>;

/** Every environment variable the service reads. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as (keyof Env)[];

/** How recipes load under this config: classify steps need OPENAI_API_KEY. */
export function recipeLoadOptions(config: Pick<Env, 'OPENAI_API_KEY' | 'OPENAI_MODEL'>) {
  return { openai: config.OPENAI_API_KEY !== undefined, defaultModel: config.OPENAI_MODEL };
}

export interface Config extends Env {
  /** true when no TEMPORAL_ADDRESS is set: `start` runs the embedded dev server. */
  embeddedTemporal: boolean;
  /** Address the clients connect to (TEMPORAL_ADDRESS or the embedded server). */
  temporalAddress: string;
  recipesDir: string;
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment into a typed config. Every bad variable is named in one error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset (docker compose's `${VAR:-}` passes "").
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== '')));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        const value = env[name];
        // Never echo values of secrets back.
        const shown = /SECRET|KEY/.test(name) || value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.TEMPORAL_WORKER_TARGET_CPU !== undefined && (e.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? e.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES) !== undefined) {
    throw new ConfigError(['TEMPORAL_WORKER_TARGET_CPU: a resource-based tuner sizes the slots itself; unset TEMPORAL_WORKER_MAX_CONCURRENT_* or TEMPORAL_WORKER_TARGET_CPU']);
  }
  return {
    ...e,
    embeddedTemporal: e.TEMPORAL_ADDRESS === undefined,
    temporalAddress: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_DEV_PORT}`,
    recipesDir: path.resolve(e.RECIPES_DIR),
    dataDir: path.resolve(e.DATA_DIR),
  };
}

const WEBHOOK_SECRET_FILE = 'stripe-webhook-secret';

export interface WebhookSecrets {
  secrets: string[];
  /** Where a generated secret is kept, when STRIPE_WEBHOOK_SECRET was not set. */
  generatedFile?: string;
  /** True only when this call generated the secret: the one time `start` prints it whole. */
  generatedNow?: boolean;
}

/**
 * The secret as the start banner shows it: whole only when it was just generated for local use.
 * A kept one may be an endpoint's real signing secret (`webhooks register` stores it there), so
 * only its ends are shown, and logs never hold it.
 */
export function secretForDisplay({ secrets, generatedNow }: WebhookSecrets): string {
  const secret = secrets[0] ?? '';
  if (generatedNow) return secret;
  // Stripe's are `whsec_` and 32 more characters; a short one shows no ends at all.
  return secret.length >= 24 ? `${secret.slice(0, 6)}…${secret.slice(-4)}` : `${secret.slice(0, 6)}…`;
}

/**
 * The Stripe signing secrets: STRIPE_WEBHOOK_SECRET (comma-separated during rotation), or else a
 * secret generated once and kept in DATA_DIR so that restarts keep accepting the same signatures.
 */
export function resolveWebhookSecrets(config: Pick<Config, 'STRIPE_WEBHOOK_SECRET' | 'dataDir'>): WebhookSecrets {
  if (config.STRIPE_WEBHOOK_SECRET) {
    const secrets = config.STRIPE_WEBHOOK_SECRET.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (secrets.length > 0) return { secrets };
  }
  const file = path.join(config.dataDir, WEBHOOK_SECRET_FILE);
  if (existsSync(file)) {
    return { secrets: [readFileSync(file, 'utf8').trim()], generatedFile: file };
  }
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  return { secrets: [secret], generatedFile: storeWebhookSecret(config.dataDir, secret), generatedNow: true };
}

/** Keeps a signing secret where the ingress reads it when STRIPE_WEBHOOK_SECRET is unset; returns the file. */
export function storeWebhookSecret(dataDir: string, secret: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, WEBHOOK_SECRET_FILE);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}
