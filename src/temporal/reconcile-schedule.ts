import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { reconcileWorkflow, type ReconcileInput } from '../workflows/reconcile';

export const RECONCILE_SCHEDULE_ID = 'stripe-segment-reconcile';
/** Each window overlaps the previous by this much: events Stripe lists late are not skipped. */
export const RECONCILE_OVERLAP_SECONDS = 300;

export interface ReconcileScheduleConfig {
  /** Seconds between runs; undefined turns reconciliation off (the Schedule is deleted). */
  intervalSeconds?: number;
  lookbackSeconds: number;
  taskQueue: string;
}

export type ReconcileScheduleState = 'created' | 'updated' | 'deleted' | 'off';

/**
 * Makes the reconciliation Schedule match the configuration, idempotently: created when missing,
 * updated in place when present (several workers may race here), deleted when turned off.
 */
export async function ensureReconcileSchedule(client: Client, config: ReconcileScheduleConfig): Promise<ReconcileScheduleState> {
  const handle = client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
  if (config.intervalSeconds === undefined) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'off';
      throw err;
    }
  }
  const args: [ReconcileInput] = [{ lookbackSeconds: config.lookbackSeconds, overlapSeconds: RECONCILE_OVERLAP_SECONDS }];
  const options = {
    scheduleId: RECONCILE_SCHEDULE_ID,
    spec: { intervals: [{ every: config.intervalSeconds * 1000 }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: reconcileWorkflow,
      workflowId: 'stripe-segment-reconcile',
      taskQueue: config.taskQueue,
      args,
      staticSummary: 'Reconcile: start runs for Stripe events the ingress missed',
    },
    // A run still listing when the next is due: skip the next; an outage: one catch-up run, not many.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: config.intervalSeconds * 1000 },
  } satisfies ScheduleOptions;
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await handle.update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: { ...previous.policies, ...options.policies } }));
  return 'updated';
}
