/**
 * The curated Stripe triggers, as on the product page. Any other Stripe event type can still be a
 * recipe trigger; these are the ones with a title, a description and a per-trigger endpoint slug
 * known up front.
 */
export interface TriggerInfo {
  type: string;
  slug: string;
  title: string;
  description: string;
}

/** `charge.failed` → `charge-failed`: the slug of `POST /v1/webhooks/stripe.trigger-<slug>`. */
export function slugOf(eventType: string): string {
  return eventType.replace(/[._]/g, '-');
}

const t = (type: string, title: string, description: string): TriggerInfo => ({ type, slug: slugOf(type), title, description });

export const triggers: TriggerInfo[] = [
  t('charge.failed', 'Charge Failed', 'A charge attempt failed (decline, fraud, insufficient funds). Use to alert the customer, retry, or kick off dunning.'),
  t('checkout.session.completed', 'Checkout Completed', 'A Checkout session completed. Use to provision the customer, send a receipt, or grant entitlements.'),
  t('customer.created', 'New Customer', 'A customer was created. Use to mirror to your CRM, send a welcome email, or enrich the record before the first charge.'),
  t('charge.dispute.created', 'New Dispute', 'A customer disputed a charge. Use to alert the team and gather evidence before the deadline.'),
  t('invoice.paid', 'Invoice Paid', 'An invoice was paid. Use to record revenue, extend access, or end a dunning sequence.'),
  t('invoice.payment_failed', 'Invoice Payment Failed', 'An invoice payment attempt failed. Use to warn the customer and start dunning.'),
  t('customer.subscription.created', 'New Subscription', 'A customer started a subscription. Use to track the plan and trial.'),
  t('customer.subscription.deleted', 'Subscription Canceled', 'A subscription ended. Use to track churn and revoke access.'),
  t('payment_intent.succeeded', 'Payment Succeeded', 'A payment succeeded. Use to track the order or confirm recovery.'),
  t('charge.refunded', 'Charge Refunded', 'A charge was refunded, fully or in part. Use to track refunds and adjust revenue.'),
];

/** The event type of a per-trigger endpoint slug, among the curated and the published triggers. */
export function triggerForSlug(slug: string, publishedTypes: Iterable<string>): string | undefined {
  for (const type of [...triggers.map((x) => x.type), ...publishedTypes]) {
    if (slugOf(type) === slug) return type;
  }
  return undefined;
}
