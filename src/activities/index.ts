import { createDunningActivities } from './dunning';
import { createExpressionActivities } from './expressions';
import { createOpenAIActivities, type OpenAIDeps } from './openai';
import { createReconcileActivities, type ReconcileDeps } from './reconcile';
import { createSegmentActivities, type SegmentDeps } from './segment';
import { createStripeActivities, type StripeDeps } from './stripe';

export type ActivityDeps = SegmentDeps & StripeDeps & OpenAIDeps & ReconcileDeps;

/**
 * Every activity of the worker, built once with its clients (Temporal's dependency-injection
 * pattern). Workflows import only the type of this. An action's activity name is what its
 * catalog entry (src/catalog/actions.ts) names.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createExpressionActivities(),
    ...createSegmentActivities(deps),
    ...createStripeActivities(deps),
    ...createOpenAIActivities(deps),
    ...createDunningActivities(),
    ...createReconcileActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
