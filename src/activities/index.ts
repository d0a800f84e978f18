import { createExpressionActivities } from './expressions';
import { createSegmentActivities, type SegmentDeps } from './segment';

export type ActivityDeps = SegmentDeps;

/**
 * Every activity of the worker, built once with its clients (Temporal's dependency-injection
 * pattern). Workflows import only the type of this.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createExpressionActivities(),
    ...createSegmentActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
