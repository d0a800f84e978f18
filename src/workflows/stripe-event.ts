import { ApplicationFailure, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RecipeSnapshot } from '../recipes/types';

/** The subset of a Stripe event the workflow relies on; the rest travels along for mappings. */
export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  livemode?: boolean;
  api_version?: string | null;
  data: { object: Record<string, unknown> };
  [key: string]: unknown;
}

export interface StripeEventWorkflowInput {
  event: StripeEvent;
  /** Snapshot of the published recipes when the event arrived: the run keeps these versions. */
  recipes: RecipeSnapshot[];
}

export interface StepResult {
  step: number;
  type: string;
  messageId: string;
}

export type RecipeResult =
  | { recipeId: string; version: string; outcome: 'delivered'; steps: StepResult[] }
  | { recipeId: string; version: string; outcome: 'failed'; steps: StepResult[]; error: string };

export interface StripeEventWorkflowResult {
  eventId: string;
  recipes: RecipeResult[];
}

// Pure CPU work: a local activity, recorded in history as a marker, no extra server round trip.
const { evaluateMapping } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

// Segment can be down for hours; keep trying with backoff for up to 3 days (Stripe's own retry window).
const { segmentCall } = proxyActivities<Activities>({
  startToCloseTimeout: '90s',
  scheduleToCloseTimeout: '72h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

/** Runs the recipe's steps in order, appending each delivered step to `steps`. */
async function runRecipe(event: StripeEvent, recipe: RecipeSnapshot, steps: StepResult[]): Promise<void> {
  for (const [i, step] of recipe.steps.entries()) {
    const where = `recipe ${recipe.id}@${recipe.version} step ${i} (${step.type})`;
    const fields = await evaluateMapping({ where, expressions: step.map, data: { event } });
    const action = step.type.slice('segment.'.length);
    const result = await segmentCall({
      action,
      fields,
      messageIdSeed: `${event.id}/${recipe.id}/${i}`,
      timestamp: new Date(event.created * 1000).toISOString(),
      stripeEventId: event.id,
      stripeEventType: event.type,
      where,
    });
    steps.push({ step: i, type: step.type, messageId: result.messageId });
  }
}

/**
 * One run per Stripe event (workflow id `stripe/<event.id>`). Each recipe runs independently:
 * one failing recipe does not stop the others. If any recipe failed, the run fails with a
 * message naming each failure, so it shows as Failed in the Web UI.
 */
export async function stripeEventWorkflow({ event, recipes }: StripeEventWorkflowInput): Promise<StripeEventWorkflowResult> {
  const results = await Promise.all(
    recipes.map(async (recipe): Promise<RecipeResult> => {
      const base = { recipeId: recipe.id, version: recipe.version };
      const steps: StepResult[] = [];
      try {
        await runRecipe(event, recipe, steps);
        return { ...base, outcome: 'delivered', steps };
      } catch (err) {
        const error = errorMessage(err);
        log.warn('recipe failed', { recipeId: recipe.id, error });
        return { ...base, outcome: 'failed', steps, error };
      }
    }),
  );
  const failed = results.filter((r): r is Extract<RecipeResult, { outcome: 'failed' }> => r.outcome === 'failed');
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'RecipeFailed',
      nonRetryable: true,
      message: `${failed.length} of ${results.length} recipe(s) failed for ${event.type} ${event.id}: ${failed
        .map((f) => `${f.recipeId}: ${f.error}`)
        .join('; ')}`,
      details: [{ eventId: event.id, recipes: results }],
    });
  }
  return { eventId: event.id, recipes: results };
}

/** The innermost cause is the one a person can act on (ActivityFailure wraps ApplicationFailure). */
function errorMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
