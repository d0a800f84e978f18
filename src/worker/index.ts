import { NativeConnection, Worker } from '@temporalio/worker';
import type { Analytics } from '@segment/analytics-node';
import { createActivities } from '../activities';
import { INTEGRATION } from '../version';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  analytics: Analytics;
}

/** The worker: the workflow bundle plus activities built once with their clients. */
export function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ analytics: opts.analytics, integration: INTEGRATION }),
  });
}
