import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import type { Analytics } from '@segment/analytics-node';
import type OpenAI from 'openai';
import type Stripe from 'stripe';
import type { AiMetrics } from '../activities/openai';
import { createActivities } from '../activities';
import type { Logger } from '../logger';
import type { RecipeSet } from '../recipes/loader';
import type { LivemodeFilter } from '../runs/start';
import { INTEGRATION } from '../version';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  analytics: Analytics;
  /** With STRIPE_API_KEY: lookups; without, lookups give null and recipes fall back. */
  stripe?: Stripe;
  /** With OPENAI_API_KEY: classify steps. */
  openai?: OpenAI;
  aiMetrics?: AiMetrics;
  /** For reconciliation: the published recipes and STRIPE_LIVEMODE. */
  recipes?: () => RecipeSet;
  livemode?: LivemodeFilter;
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let runtimeInstalled = false;

/**
 * Routes the Temporal SDK's own logs (worker, bundler, workflow and activity loggers) into pino
 * at WARN and above. Must run before the first worker connection; later calls do nothing.
 */
export function installRuntimeLogging(logger: Logger, level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => sdk[PINO_LEVEL[entry.level]](entry.meta ?? {}, entry.message)),
  });
}

/** The worker: the workflow bundle plus activities built once with their clients. */
export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ ...opts, integration: INTEGRATION }),
  });
}
