import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

export interface ReconcileInput {
  /** How far back the first run looks (s); later runs resume from the previous checkpoint. */
  lookbackSeconds: number;
  /** Overlap with the previous window (s): events Stripe lists a little late are still seen. */
  overlapSeconds: number;
}

export interface ReconcileResult {
  /** Unix time the listing began: the next run lists from here (minus the overlap). */
  checkpoint: number;
  since: number;
  seen: number;
  started: number;
  alreadyDone: number;
  ignored: number;
}

const THIRTY_DAYS = 30 * 86_400;

const { lastReconcileCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 5 },
});

const { reconcileStripeEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 5 },
});

/**
 * One reconciliation, run by the `stripe-segment-reconcile` Schedule: lists the Stripe events
 * since the last checkpoint and starts a run for each one no run exists for. The checkpoint is
 * the result of the last reconciliation that completed, kept by Temporal like any run's result:
 * a failed run leaves it where it was, so its window is listed again next time.
 */
export async function reconcileWorkflow(input: ReconcileInput): Promise<ReconcileResult> {
  const now = Math.floor(Date.now() / 1000);
  const checkpoint = await lastReconcileCheckpoint.executeWithOptions({ summary: 'Read the last checkpoint' }, [{ excludeRunId: workflowInfo().runId }]);
  if (checkpoint === null) {
    // The first run, or no completed reconciliation within the namespace retention (every run has
    // failed for that long): events older than the lookback are not listed; `backfill` can.
    log.warn('No earlier reconciliation is kept: listing RECONCILE_LOOKBACK only', { lookbackSeconds: input.lookbackSeconds });
  }
  const from = checkpoint !== null ? checkpoint - input.overlapSeconds : now - input.lookbackSeconds;
  const since = Math.max(from, now - THIRTY_DAYS + 60);
  return reconcileStripeEvents.executeWithOptions({ summary: `Reconcile Stripe events since ${new Date(since * 1000).toISOString()}` }, [{ since }]);
}
