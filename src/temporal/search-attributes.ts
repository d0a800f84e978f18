import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes of every Stripe event run. Registered by `start` (embedded server and
 * clusters alike) so ops can filter runs in the Web UI, e.g. `StripeCustomerId = "cus_123"`.
 * Safe to import from workflow code.
 */
export const SA = {
  eventType: defineSearchAttributeKey('StripeEventType', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD),
  objectId: defineSearchAttributeKey('StripeObjectId', SearchAttributeType.KEYWORD),
  livemode: defineSearchAttributeKey('StripeLivemode', SearchAttributeType.BOOL),
  recipeIds: defineSearchAttributeKey('RecipeIds', SearchAttributeType.KEYWORD_LIST),
  /** Set by the workflow when the run ends: delivered, filtered, partial or failed. */
  outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);
