import { buildSegmentMessage, type ActionInput, type SegmentMessage } from '../activities/segment';
import { INTEGRATION } from '../version';
import { ExpressionEvaluator } from './evaluate';
import { actionMeta, stepWhere } from './steps';
import type { RecipeSnapshot } from './types';

export interface DryRunStep {
  step: number;
  type: string;
  /** For a Segment action: the exact message that would be sent. */
  message?: SegmentMessage & { type: string };
  /** For another action: the fields its activity would receive. */
  fields?: Record<string, unknown>;
  /** For a lookup: what it would have fetched. */
  lookup?: string;
  /** For classify: the `ai` fields used (given, or none in a dry run). */
  ai?: Record<string, unknown>;
  skipped?: string;
}

export interface DryRunResult {
  recipeId: string;
  version: string;
  outcome: 'delivered' | 'filtered' | 'failed';
  /** The filter that stopped the recipe, when filtered. */
  filter?: string;
  steps: DryRunStep[];
  error?: string;
}

/**
 * Runs a recipe against an event the way the workflow does (filters, mappings, Segment Spec
 * validation, messageIds) but sends nothing: no network at all. Lookups give `lookups[as]` when
 * provided, else null, as a worker without STRIPE_API_KEY would.
 */
export async function dryRun(
  recipe: RecipeSnapshot,
  event: { id: string; type: string; created: number },
  opts: { lookups?: Record<string, unknown>; ai?: Record<string, unknown>; evaluator?: ExpressionEvaluator } = {},
): Promise<DryRunResult> {
  const evaluator = opts.evaluator ?? new ExpressionEvaluator();
  const data = { event, ai: {} as Record<string, unknown>, lookup: {} as Record<string, unknown> };
  const steps: DryRunStep[] = [];
  const base = { recipeId: recipe.id, version: recipe.version, steps };
  for (const [i, step] of recipe.steps.entries()) {
    const where = stepWhere(recipe, i, step.type);
    try {
      if (step.kind === 'filter') {
        if (!(await evaluator.filter(step.if, data))) return { ...base, outcome: 'filtered', filter: step.if };
      } else if (step.kind === 'classify') {
        // No model call in a dry run: `ai` is what the caller gives (e.g. --ai reply.json), else empty.
        Object.assign(data.ai, opts.ai ?? {});
        steps.push({ step: i, type: step.type, ai: opts.ai ?? {}, ...(step.skipped && !opts.ai ? { skipped: step.skipped } : {}) });
      } else if (step.kind === 'lookup') {
        const value = opts.lookups?.[step.as] ?? null;
        data.lookup[step.as] = value;
        steps.push({ step: i, type: step.type, lookup: value ? 'provided' : 'not looked up (dry run)' });
      } else {
        const fields = await evaluator.map(step.map, data);
        if (step.activity !== 'segmentCall') {
          steps.push({ step: i, type: step.type, fields });
          continue;
        }
        const input: ActionInput = { type: step.type, fields, meta: actionMeta(event, recipe.id, i, where) };
        const { call, message } = buildSegmentMessage(input, INTEGRATION);
        steps.push({ step: i, type: step.type, message: { type: call, ...message } });
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      return { ...base, outcome: 'failed', error: message.startsWith('recipe ') ? message : `${where}: ${message}` };
    }
  }
  return { ...base, outcome: 'delivered' };
}
