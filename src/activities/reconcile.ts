import { ApplicationFailure, Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { RecipeSet } from '../recipes/loader';
import { backfill } from '../runs/backfill';
import type { LivemodeFilter } from '../runs/start';
import { namespaceRetentionSeconds } from '../temporal/namespace-setup';
import type { ReconcileResult } from '../workflows/reconcile';
import { classifyStripeError } from './stripe';

export interface ReconcileDeps {
  stripe?: Stripe;
  /** The worker's published recipes: which event types to list, and each run's snapshot. */
  recipes?: () => RecipeSet;
  livemode?: LivemodeFilter;
}

/** A margin inside the retention, so a run about to be deleted still counts as kept. */
const RETENTION_MARGIN_SECONDS = 300;

/** The oldest event time whose run (if it ran) Temporal still keeps, or 0 without a retention. */
async function retainedSince(ctx: Context, now: number): Promise<number> {
  const retention = await namespaceRetentionSeconds(ctx.client.connection, ctx.info.namespace);
  return retention > 0 ? now - retention + RETENTION_MARGIN_SECONDS : 0;
}

export function createReconcileActivities({ stripe, recipes, livemode = 'both' }: ReconcileDeps) {
  return {
    /**
     * The checkpoint of the newest completed reconciliation, or null if none is kept (the first
     * run, or the last one is older than the namespace retention).
     */
    async lastReconcileCheckpoint({ excludeRunId }: { excludeRunId: string }): Promise<number | null> {
      const { client } = Context.current();
      let newest: { workflowId: string; runId: string; closeTime: number } | undefined;
      for await (const wf of client.workflow.list({ query: 'WorkflowType = "reconcileWorkflow" AND ExecutionStatus = "Completed"', pageSize: 20 })) {
        const closeTime = wf.closeTime?.getTime() ?? 0;
        if (wf.runId !== excludeRunId && (!newest || closeTime > newest.closeTime)) newest = { workflowId: wf.workflowId, runId: wf.runId, closeTime };
      }
      if (!newest) return null;
      const result = (await client.workflow.getHandle(newest.workflowId, newest.runId, { followRuns: false }).result()) as Partial<ReconcileResult>;
      return typeof result?.checkpoint === 'number' ? result.checkpoint : null;
    },

    /**
     * Lists the events since `since` and starts a run for each event that has none, with the
     * ingress's id rule. Heartbeats its counts. Fails (and is retried) if any start failed, so
     * the checkpoint never moves past an event that was not taken.
     */
    async reconcileStripeEvents({ since }: { since: number }): Promise<ReconcileResult> {
      if (!stripe || !recipes) {
        throw ApplicationFailure.nonRetryable('Reconciliation needs STRIPE_API_KEY on the worker: set it, or set RECONCILE_INTERVAL=off.', 'NotConfigured');
      }
      const ctx = Context.current();
      const checkpoint = Math.floor(Date.now() / 1000);
      // Never list past the namespace retention: the runs of events processed before it are
      // deleted, so those events would run (and reach Segment) again. Only a first run with a
      // RECONCILE_LOOKBACK longer than the retention reaches that far.
      const retained = await retainedSince(ctx, checkpoint);
      if (since < retained) {
        ctx.log.warn('reconciliation window capped at the namespace retention', { asked: since, since: retained });
        since = retained;
      }
      let summary;
      try {
        summary = await backfill({
          client: ctx.client,
          stripe,
          recipes: recipes(),
          taskQueue: ctx.info.taskQueue,
          since,
          livemode,
          via: 'reconciliation',
          onProgress: (s) => ctx.heartbeat({ seen: s.seen, started: s.started, alreadyDone: s.alreadyDone }),
        });
      } catch (err) {
        throw classifyStripeError(err, 'Reconciliation: listing Stripe events');
      }
      if (summary.failed > 0) {
        throw ApplicationFailure.retryable(
          `Reconciliation: ${summary.failed} of ${summary.seen} event(s) could not be started (first: ${summary.failures[0]?.eventId}: ${summary.failures[0]?.error}); retrying.`,
          'StartFailed',
        );
      }
      const { failures: _failures, failed: _failed, ...counts } = summary;
      ctx.log.info('reconciliation done', { since, ...counts });
      return { checkpoint, since, ...counts };
    },
  };
}
