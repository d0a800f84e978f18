/**
 * What a workflow receives about a published recipe: a snapshot taken when the run started, so a
 * run keeps the version it started with. Types only: safe to import from workflow code.
 */

/** Stops the recipe (outcome "filtered") unless the JSONata expression is true. */
export interface FilterStep {
  kind: 'filter';
  type: 'filter';
  /** JSONata boolean over `{ event, ai, lookup }`. */
  if: string;
}

/** Fetches a Stripe object (with STRIPE_API_KEY) into `lookup.<as>`; null without a key or id. */
export interface LookupStep {
  kind: 'lookup';
  type: 'stripe.lookup';
  object: StripeLookupObject;
  /** JSONata expression giving the object id. */
  id: string;
  as: string;
}

export const STRIPE_LOOKUP_OBJECTS = ['charge', 'customer', 'invoice', 'payment_intent', 'subscription'] as const;
export type StripeLookupObject = (typeof STRIPE_LOOKUP_OBJECTS)[number];

/** Performs a catalog action (e.g. "segment.track") with fields mapped from the payload. */
export interface ActionStep {
  kind: 'action';
  type: string;
  /** The activity that performs it, resolved from the catalog when the recipe was loaded. */
  activity: string;
  /** Field → JSONata expression over `{ event, ai, lookup }`. */
  map: Record<string, string>;
  /** The step's settings (`with`), validated against the action's options. */
  options?: Record<string, unknown>;
}

/** Output of a classify step: field → labels (an enum) or a basic type. */
export type ClassifyOutput = Record<string, string[] | 'string' | 'number' | 'boolean'>;

/** Asks an OpenAI-compatible model to classify the picked input; the reply fields land in `ai.*`. */
export interface ClassifyStep {
  kind: 'classify';
  type: 'classify';
  model: string;
  instructions: string;
  /** JSONata expression picking only the fields the model needs (data minimisation). */
  input: string;
  output: ClassifyOutput;
  /** Set when an optional step cannot run here (no OPENAI_API_KEY): skipped, `ai` stays empty. */
  skipped?: string;
}

export type RecipeStep = FilterStep | LookupStep | ClassifyStep | ActionStep;

export interface RecipeSnapshot {
  id: string;
  name: string;
  /** Content hash of the recipe file: the version every run records. */
  version: string;
  trigger: string;
  steps: RecipeStep[];
}
