/**
 * What a workflow receives about a published recipe: a snapshot taken when the run started, so a
 * run keeps the version it started with. Types only: safe to import from workflow code.
 */
export interface SegmentActionStep {
  /** e.g. "segment.identify" — a key of the Segment action catalog. */
  type: `segment.${string}`;
  /** Segment call field → JSONata expression over `{ event, ai }`. */
  map: Record<string, string>;
}

export type RecipeStep = SegmentActionStep;

export interface RecipeSnapshot {
  id: string;
  name: string;
  /** Content hash of the recipe file: the version every run records. */
  version: string;
  trigger: string;
  steps: RecipeStep[];
}
