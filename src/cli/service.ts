import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { createAiMetrics, createOpenAIClient } from '../activities/openai';
import { createStripeClient } from '../activities/stripe';
import { createIngressMetrics, createRegistry } from '../api/metrics';
import { createIngress } from '../api/app';
import { listen } from '../api/server';
import { ConfigError, recipeLoadOptions, resolveWebhookSecrets, type Config, type WebhookSecrets } from '../config';
import type { Logger } from '../logger';
import { loadRecipes, type RecipeSet } from '../recipes/loader';
import { startCaptureSink, type CaptureSink } from '../segment/capture-sink';
import { createAnalytics } from '../segment/client';
import { connectClient, connectWorker, createClient } from '../temporal/connection';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { ensureNamespaceSetup } from '../temporal/namespace-setup';
import { ensureReconcileSchedule, RECONCILE_SCHEDULE_ID } from '../temporal/reconcile-schedule';
import { createWorker, installRuntimeLogging } from '../worker';

export interface Roles {
  /** Run the embedded Temporal dev server (only when TEMPORAL_ADDRESS is unset). */
  embedded: boolean;
  api: boolean;
  worker: boolean;
}

export interface RunningService {
  ingressUrl?: string;
  uiUrl?: string;
  sinkUrl?: string;
  temporalAddress: string;
  /** The ingress's signing secrets and where a kept one lives (with the api role only). */
  webhookSecrets?: WebhookSecrets;
  recipes: () => RecipeSet;
  reloadRecipes(): RecipeSet;
  /** Resolves when a part stops by itself (e.g. the worker fails). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the parts of the service in dependency order: recipes (refused early when invalid),
 * Temporal (embedded or remote) with namespace setup, the Segment client (or the local capture
 * sink), the worker, then the ingress. `stop()` undoes it in reverse, draining in-flight work.
 */
export async function startService(config: Config, logger: Logger, roles: Roles): Promise<RunningService> {
  const stops: Array<() => Promise<void>> = [];
  // One Prometheus registry per process: the ingress serves it, the worker's AI metrics add to it.
  const registry = createRegistry();
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'error while stopping');
      }
    }
    stops.length = 0;
  };

  try {
    if (roles.worker && config.RECONCILE_INTERVAL !== undefined && !config.STRIPE_API_KEY) {
      throw new ConfigError([
        'RECONCILE_INTERVAL: reconciliation lists events through the Stripe API; set STRIPE_API_KEY (a restricted key with Events read is enough), or set RECONCILE_INTERVAL=off',
      ]);
    }
    const loadOptions = recipeLoadOptions(config);
    let recipeSet = loadRecipes(config.recipesDir, loadOptions);
    logger.info({ recipes: recipeSet.recipes.map((r) => `${r.id}@${r.version}`), triggers: recipeSet.triggers }, 'recipes loaded');
    const reloadRecipes = () => {
      recipeSet = loadRecipes(config.recipesDir, loadOptions);
      logger.info({ recipes: recipeSet.recipes.map((r) => `${r.id}@${r.version}`) }, 'recipes reloaded');
      return recipeSet;
    };

    let devServer: DevServer | undefined;
    if (roles.embedded && config.embeddedTemporal) {
      devServer = await startDevServer({
        cliPath: config.TEMPORAL_CLI_PATH,
        dataDir: config.dataDir,
        namespace: config.TEMPORAL_NAMESPACE,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        sqlitePragmas: config.TEMPORAL_SQLITE_PRAGMAS,
        logger,
      });
      stops.push(() => devServer!.stop());
    }

    let client: Client | undefined;
    if (roles.worker) {
      installRuntimeLogging(logger);
      // The worker side owns namespace setup: it needs Temporal up anyway.
      client = await connectClient(config);
      const c = client;
      stops.push(() => c.connection.close());
      const setup = await ensureNamespaceSetup(client.connection, config.TEMPORAL_NAMESPACE);
      logger.info(setup, 'temporal namespace ready');
      const reconcile = await ensureReconcileSchedule(client, {
        intervalSeconds: config.RECONCILE_INTERVAL,
        lookbackSeconds: config.RECONCILE_LOOKBACK,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
      });
      logger.info({ schedule: RECONCILE_SCHEDULE_ID, state: reconcile, everySeconds: config.RECONCILE_INTERVAL ?? null }, 'reconciliation schedule');
    }

    let sink: CaptureSink | undefined;
    let workerConnection: NativeConnection | undefined;
    // Never resolves when this process runs no worker.
    let workerRun: Promise<void> = new Promise(() => undefined);
    if (roles.worker) {
      let writeKey = config.SEGMENT_WRITE_KEY;
      let host = config.SEGMENT_HOST;
      if (!writeKey) {
        sink = await startCaptureSink({ port: config.SEGMENT_SINK_PORT, host: '127.0.0.1', logger });
        stops.push(() => sink!.close());
        writeKey = 'local-capture-sink';
        host = sink.url;
        logger.warn({ sink: sink.url }, 'SEGMENT_WRITE_KEY is not set: Segment calls go to the local capture sink');
      }
      const analytics = createAnalytics({ writeKey, host, flushIntervalMs: config.SEGMENT_FLUSH_INTERVAL_MS });
      stops.push(() => analytics.closeAndFlush({ timeout: 10_000 }));
      const connection = await connectWorker(config);
      workerConnection = connection;
      stops.push(() => connection.close());
      const worker = await createWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        analytics,
        stripe: config.STRIPE_API_KEY ? createStripeClient(config.STRIPE_API_KEY, config.STRIPE_API_BASE) : undefined,
        openai: config.OPENAI_API_KEY ? createOpenAIClient(config.OPENAI_API_KEY, config.OPENAI_BASE_URL, config.OPENAI_TIMEOUT_MS) : undefined,
        aiMetrics: createAiMetrics(registry),
        recipes: () => recipeSet,
        livemode: config.STRIPE_LIVEMODE,
        prebuiltBundle: config.TEMPORAL_WORKFLOW_BUNDLE === 'prebuilt',
        capacity: {
          maxConcurrentWorkflowTasks: config.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
          maxConcurrentActivities: config.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES,
          targetCpu: config.TEMPORAL_WORKER_TARGET_CPU,
        },
      });
      workerRun = worker.run();
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun.catch(() => undefined);
      });
      logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
    }

    let ingressUrl: string | undefined;
    let webhookSecrets: WebhookSecrets | undefined;
    if (roles.api) {
      webhookSecrets = resolveWebhookSecrets(config);
      let apiClient = client;
      // With a worker in this process, the ingress starts runs over the worker's own connection,
      // so the server can hand each run straight to it (eager start: no poll round trip).
      const eagerStart = Boolean(workerConnection && config.TEMPORAL_EAGER_START);
      if (eagerStart) apiClient = new Client({ connection: workerConnection!, namespace: config.TEMPORAL_NAMESPACE });
      if (!apiClient) {
        const lazy = createClient(config);
        stops.push(() => lazy.connection.close());
        apiClient = lazy;
      }
      const ingress = createIngress({
        client: apiClient,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        recipes: () => recipeSet,
        secrets: webhookSecrets.secrets,
        logger,
        toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        metrics: createIngressMetrics(registry),
        livemode: config.STRIPE_LIVEMODE,
        eagerStart,
      });
      const listening = await listen(ingress, config.PORT, config.HOST);
      stops.push(() => listening.close());
      ingressUrl = listening.url;
      logger.info({ url: ingressUrl }, 'ingress listening');
    }

    return {
      ingressUrl,
      uiUrl: devServer?.uiUrl,
      sinkUrl: sink?.url,
      temporalAddress: config.temporalAddress,
      webhookSecrets,
      recipes: () => recipeSet,
      reloadRecipes,
      done: workerRun,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
