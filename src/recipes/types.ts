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
}

export type RecipeStep = FilterStep | LookupStep | ActionStep;

export interface RecipeSnapshot {
  id: string;
  name: string;
  /** Content hash of the recipe file: the version every run records. */
  version: string;
  trigger: string;
  steps: RecipeStep[];
}
