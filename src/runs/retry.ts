import type { Client } from '@temporalio/client';
import { snapshotOf, type RecipeSet } from '../recipes/loader';
import type { RecipeSnapshot } from '../recipes/types';
import { eventRuns, runInput } from './inspect';
import { startStripeRun } from './start';

export interface RetryOptions {
  /** Only these recipes (each must have failed in the last run). Default: every failed recipe. */
  recipeIds?: string[];
  /** Re-run the recipe versions the event first ran with, not the published ones. */
  original?: boolean;
  published: RecipeSet;
  taskQueue: string;
}

export interface RetryResult {
  workflowId: string;
  runId: string;
  recipes: { id: string; version: string; source: 'published' | 'original' }[];
}

/** Why a retry is refused; the message says what to do instead. */
export class RetryRefused extends Error {}

/**
 * Re-drives the failed recipes of an event: a new run under the same workflow id (allowed only
 * once the last run failed, was terminated or timed out), with only those recipes. Steps keep their
 * messageIds, so messages the failed run did deliver are deduplicated by Segment.
 */
export async function retryRun(client: Client, eventId: string, opts: RetryOptions): Promise<RetryResult> {
  const runs = await eventRuns(client, eventId).catch((err: Error) => {
    throw new RetryRefused(`Cannot read the runs of ${eventId}: ${err.message}`);
  });
  const last = runs.at(-1);
  if (!last) throw new RetryRefused(`No run for Stripe event ${eventId}. To process an event that never arrived, use \`stripe-segment backfill\`.`);
  if (last.status === 'RUNNING') {
    const waiting = last.pending?.[0];
    throw new RetryRefused(
      `The run of ${eventId} is still running${waiting ? ` (${waiting.activity}, attempt ${waiting.attempt}${waiting.lastFailure ? `: ${waiting.lastFailure}` : ''})` : ''}; Temporal keeps retrying it. Wait, or terminate it first (\`stripe-segment runs terminate ${eventId}\`).`,
    );
  }
  if (last.status === 'COMPLETED') {
    throw new RetryRefused(`The last run of ${eventId} completed (outcome ${last.outcome ?? 'delivered'}); there is nothing to retry.`);
  }

  const input = await runInput(client, last.workflowId, last.runId);
  // A failed run reports which recipes failed; a terminated or timed-out one did not finish any.
  const failed = last.recipes ? last.recipes.filter((r) => r.outcome === 'failed').map((r) => r.recipeId) : input.recipes.map((r) => r.id);
  const wanted = opts.recipeIds?.length ? opts.recipeIds : failed;
  const notFailed = wanted.filter((id) => !failed.includes(id));
  if (notFailed.length > 0) {
    throw new RetryRefused(`Recipe(s) ${notFailed.join(', ')} did not fail in the last run of ${eventId}; failed: ${failed.join(', ') || 'none'}.`);
  }

  const chosen: { snapshot: RecipeSnapshot; source: 'published' | 'original' }[] = wanted.map((id) => {
    const published = opts.original ? undefined : opts.published.byId(id);
    // A recipe since disabled or moved to another trigger no longer applies: keep the original.
    if (published?.enabled && published.trigger === input.event.type) return { snapshot: snapshotOf(published), source: 'published' };
    const original = input.recipes.find((r) => r.id === id);
    if (!original) throw new RetryRefused(`Recipe ${id} is in neither the run's snapshot nor the published recipes.`);
    return { snapshot: original, source: 'original' };
  });
  const recipes = chosen.map((c) => c.snapshot);
  const started = await startStripeRun(client, {
    event: input.event,
    recipes,
    taskQueue: opts.taskQueue,
    via: 'retry',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  });
  if (started.duplicate) throw new RetryRefused(`Another run of ${eventId} started meanwhile; see \`stripe-segment runs show ${eventId}\`.`);
  return { workflowId: started.workflowId, runId: started.runId!, recipes: chosen.map((c) => ({ id: c.snapshot.id, version: c.snapshot.version, source: c.source })) };
}
