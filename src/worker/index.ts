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
import { prebuiltBundle } from './bundle';
import { heartbeatInterceptor } from './heartbeat';

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
  capacity?: WorkerCapacity;
  /** Use dist/workflow-bundle.js when it matches the code (default); false bundles at start. */
  prebuiltBundle?: boolean;
}

/** Worker capacity from TEMPORAL_WORKER_*: fixed slot counts, or a CPU target for a resource-based tuner. */
export interface WorkerCapacity {
  maxConcurrentWorkflowTasks?: number;
  maxConcurrentActivities?: number;
  targetCpu?: number;
}

function capacityOptions(c: WorkerCapacity = {}) {
  if (c.targetCpu !== undefined) {
    const tunerOptions = { targetCpuUsage: c.targetCpu, targetMemoryUsage: 0.9 };
    return { tuner: { tunerOptions, workflowTaskSlotOptions: {}, activityTaskSlotOptions: {}, localActivityTaskSlotOptions: {} } };
  }
  return {
    ...(c.maxConcurrentWorkflowTasks ? { maxConcurrentWorkflowTaskExecutions: c.maxConcurrentWorkflowTasks } : {}),
    ...(c.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: c.maxConcurrentActivities } : {}),
  };
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

/** The pre-built bundle when it matches this code (no webpack at start), else the workflow sources. */
function workflowCode(usePrebuilt = true) {
  const codePath = usePrebuilt ? prebuiltBundle() : undefined;
  return codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') };
}

/** The worker: the workflow bundle plus activities built once with their clients. */
export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowCode(opts.prebuiltBundle),
    activities: createActivities({ ...opts, integration: INTEGRATION }),
    ...capacityOptions(opts.capacity),
    interceptors: { activity: [heartbeatInterceptor()] },
  });
}
