import { ApplicationFailure, log, patched, proxyActivities, proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActionInput } from '../activities/segment';
import { actionMeta, actionSummary, stepSummary, stepWhere } from '../recipes/steps';
import { SA } from '../temporal/search-attributes';
import type { RecipeSnapshot, RecipeStep } from '../recipes/types';

/** The subset of a Stripe event the workflow relies on; the rest travels along for mappings. */
export interface StripeEvent {
  id: string;
  type: string;
  created: number;
  livemode?: boolean;
  api_version?: string | null;
  object?: string;
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
  /** Segment messageId (or the action's own id of what it did). */
  messageId?: string;
  /** For lookups: whether an object was found, or why not. */
  lookup?: string;
  /** For classify: the fields, the model and the token usage; or why it was skipped. */
  ai?: Record<string, unknown>;
  model?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  skipped?: string;
  /** For dunning steps: the sequence's workflow id, and whether a recovery reached an open one. */
  workflowId?: string;
  signaled?: boolean;
}

interface RecipeBase {
  recipeId: string;
  version: string;
  steps: StepResult[];
}
export type RecipeResult =
  | (RecipeBase & { outcome: 'delivered' })
  | (RecipeBase & { outcome: 'filtered'; filter: string; step: number })
  | (RecipeBase & { outcome: 'failed'; error: string });

export interface StripeEventWorkflowResult {
  eventId: string;
  recipes: RecipeResult[];
}

// Pure CPU work: local activities, recorded in history as markers, no extra server round trip.
const { evaluateMapping, evaluateFilter } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

// A classify call: the SDK times out each request; 429/5xx/timeouts retry (honouring Retry-After).
// Remote activities heartbeat (src/worker/heartbeat.ts): a dead worker's attempt is retried
// after heartbeatTimeout, not after the whole startToCloseTimeout.
const ai = proxyActivities<Activities>({
  startToCloseTimeout: '120s',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

// Segment or Stripe can be down for hours; keep trying with backoff for up to 3 days (Stripe's own retry window).
const remote = proxyActivities<Activities>({
  startToCloseTimeout: '90s',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '72h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

type ActionResult = { messageId?: string; workflowId?: string; signaled?: boolean };
type ActionActivity = ((input: ActionInput) => Promise<ActionResult>) & {
  executeWithOptions(options: { summary: string }, args: [ActionInput]): Promise<ActionResult>;
};

type Outcome = { outcome: 'delivered' } | { outcome: 'filtered'; filter: string; step: number };

/** Runs the recipe's steps in order, appending each completed step to `steps`. */
async function runRecipe(event: StripeEvent, recipe: RecipeSnapshot, steps: StepResult[]): Promise<Outcome> {
  const data: { event: StripeEvent; ai: Record<string, unknown>; lookup: Record<string, unknown> } = { event, ai: {}, lookup: {} };
  for (const [i, step] of recipe.steps.entries()) {
    const where = stepWhere(recipe, i, step.type);
    const result = await runStep(event, recipe, i, step, where, data);
    if (result === 'filtered' && step.kind === 'filter') return { outcome: 'filtered', filter: step.if, step: i };
    if (typeof result === 'object') steps.push(result);
  }
  return { outcome: 'delivered' };
}

async function runStep(
  event: StripeEvent,
  recipe: RecipeSnapshot,
  i: number,
  step: RecipeStep,
  where: string,
  data: { event: StripeEvent; ai: Record<string, unknown>; lookup: Record<string, unknown> },
): Promise<StepResult | 'filtered' | 'passed'> {
  const summary = (what: string) => ({ summary: stepSummary(recipe.id, i, what) });
  switch (step.kind) {
    case 'filter':
      return (await evaluateFilter.executeWithOptions(summary('Filter'), [{ where, expression: step.if, data }])) ? 'passed' : 'filtered';
    case 'lookup': {
      const { id } = await evaluateMapping.executeWithOptions(summary(`Map ${step.as} id`), [{ where, expressions: { id: step.id }, data }]);
      const found = await remote.stripeLookup.executeWithOptions(summary(`Stripe lookup ${step.object} ${String(id ?? '(none)')}`), [
        { object: step.object, id, where },
      ]);
      data.lookup[step.as] = found.object;
      return { step: i, type: step.type, lookup: found.object ? 'found' : (found.note ?? 'none') };
    }
    case 'classify': {
      if (step.skipped) return { step: i, type: step.type, skipped: step.skipped };
      const { input } = await evaluateMapping.executeWithOptions(summary('Map classify input'), [{ where, expressions: { input: step.input }, data }]);
      const result = await ai.classify.executeWithOptions(summary(`OpenAI classify (${step.model})`), [
        { model: step.model, instructions: step.instructions, input, output: step.output, where },
      ]);
      Object.assign(data.ai, result.fields);
      return { step: i, type: step.type, ai: result.fields, model: result.model, usage: result.usage };
    }
    case 'action': {
      const fields = await evaluateMapping.executeWithOptions(summary(`Map ${step.type} fields`), [{ where, expressions: step.map, data }]);
      const activity = (remote as unknown as Record<string, ActionActivity | undefined>)[step.activity];
      if (!activity) throw ApplicationFailure.nonRetryable(`${where}: no activity "${step.activity}" on this worker`, 'UnknownAction');
      const result = await activity.executeWithOptions({ summary: actionSummary(step.type, fields) }, [
        { type: step.type, fields, options: step.options, meta: actionMeta(event, recipe.id, i, where) },
      ]);
      return {
        step: i,
        type: step.type,
        ...(result.messageId ? { messageId: result.messageId } : {}),
        ...(result.workflowId ? { workflowId: result.workflowId } : {}),
        ...(result.signaled !== undefined ? { signaled: result.signaled } : {}),
      };
    }
  }
}

/** How a run ended, as the `Outcome` search attribute: the Web UI and `runs list --outcome` filter on it. */
export type RunOutcome = 'delivered' | 'filtered' | 'partial' | 'failed';

/** delivered: no recipe failed and one delivered; filtered: every recipe was filtered out; partial: some failed; failed: all failed. */
export function runOutcome(results: Pick<RecipeResult, 'outcome'>[]): RunOutcome {
  const failed = results.filter((r) => r.outcome === 'failed').length;
  if (failed > 0) return failed === results.length ? 'failed' : 'partial';
  return results.length > 0 && results.every((r) => r.outcome === 'filtered') ? 'filtered' : 'delivered';
}

/**
 * One run per Stripe event (workflow id `stripe/<event.id>`). Each recipe runs independently:
 * one failing recipe does not stop the others. The result lists each recipe's outcome:
 * delivered, filtered (with the filter), or failed (with the reason). If any recipe failed, the
 * run fails with a message naming each failure, so it shows as Failed in the Web UI.
 */
export async function stripeEventWorkflow({ event, recipes }: StripeEventWorkflowInput): Promise<StripeEventWorkflowResult> {
  const results = await Promise.all(
    recipes.map(async (recipe): Promise<RecipeResult> => {
      const base = { recipeId: recipe.id, version: recipe.version };
      const steps: StepResult[] = [];
      try {
        return { ...base, steps, ...(await runRecipe(event, recipe, steps)) };
      } catch (err) {
        const error = errorMessage(err);
        log.warn('recipe failed', { recipeId: recipe.id, error });
        return { ...base, outcome: 'failed', steps, error };
      }
    }),
  );
  // Runs started with the project's search attributes (every path in src/runs) are in a namespace
  // that has Outcome too; a run started by hand without them must not stall on an unknown attribute.
  // Guarded by patched(): runs recorded before the Outcome attribute existed replay without it
  // (test/histories/stripe-before-outcome.json).
  if (workflowInfo().typedSearchAttributes.get(SA.eventType) !== undefined && patched('outcome-search-attribute')) {
    upsertSearchAttributes([{ key: SA.outcome, value: runOutcome(results) }]);
  }
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
