import { z } from 'zod';

/**
 * The ten curated Stripe triggers, as on the product page. Any other Stripe event type can still
 * be a recipe trigger, untyped. Each curated trigger has a slug (its per-trigger endpoint), a
 * title, what it is for, and a zod schema of the fields its default recipe uses, loose enough for
 * both older (2020-08-27) and newer (2025 basil/clover) API layouts.
 */
export interface TriggerInfo {
  type: string;
  slug: string;
  title: string;
  description: string;
  /** Schema of `data.object`: the fields the default recipe reads. */
  fields: z.ZodType;
}

/** `charge.failed` → `charge-failed`: the slug of `POST /v1/webhooks/stripe.trigger-<slug>`. */
export function slugOf(eventType: string): string {
  return eventType.replace(/[._]/g, '-');
}

const id = (prefix: string) => z.string().startsWith(prefix);
const nullableString = z.string().nullable().optional();
const amount = z.number().int();
const currency = z.string().length(3);
const customerRef = z.union([id('cus_'), z.null()]).optional();
const address = z
  .object({ line1: nullableString, line2: nullableString, city: nullableString, state: nullableString, postal_code: nullableString, country: nullableString })
  .nullable()
  .optional();
const obj = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const charge = obj({
  id: id('ch_'),
  amount,
  currency,
  customer: customerRef,
  billing_details: obj({ email: nullableString, name: nullableString, phone: nullableString, address }),
});
const invoice = obj({
  id: id('in_'),
  customer: id('cus_'),
  currency,
  amount_due: amount,
  amount_paid: amount,
  attempt_count: z.number().int(),
  number: nullableString,
  hosted_invoice_url: nullableString,
  // 2025-03-31.basil moved `subscription` to `parent.subscription_details.subscription`.
  subscription: nullableString,
  parent: obj({ subscription_details: obj({ subscription: nullableString }).nullable().optional() }).nullable().optional(),
});
const subscription = obj({
  id: id('sub_'),
  customer: id('cus_'),
  status: z.string(),
  // 2025-03-31.basil moved current_period_* to the items.
  items: obj({ data: z.array(obj({ price: obj({ id: z.string(), unit_amount: amount.nullable().optional(), currency }).optional(), quantity: z.number().optional() })) }),
});

const t = (type: string, title: string, description: string, fields: z.ZodType): TriggerInfo => ({ type, slug: slugOf(type), title, description, fields });

export const triggers: TriggerInfo[] = [
  t('charge.failed', 'Charge Failed', 'A charge attempt failed (decline, fraud, insufficient funds). Use to alert the customer, retry, or kick off dunning.', charge.extend({ failure_code: nullableString, failure_message: nullableString })),
  t(
    'checkout.session.completed',
    'Checkout Completed',
    'A Checkout session completed (whatever the async payment status). Use to provision the customer, send a receipt, or grant entitlements.',
    obj({
      id: id('cs_'),
      amount_total: amount.nullable(),
      amount_subtotal: amount.nullable(),
      currency: currency.nullable(),
      customer: customerRef,
      customer_details: obj({ email: nullableString, name: nullableString }).nullable().optional(),
      total_details: obj({ amount_discount: amount, amount_shipping: amount.nullable().optional(), amount_tax: amount }).nullable().optional(),
    }),
  ),
  t(
    'customer.created',
    'New Customer',
    'A customer was created. Use to mirror to your CRM, send a welcome email, or enrich the record before the first charge.',
    obj({ id: id('cus_'), email: nullableString, name: nullableString, phone: nullableString, address, created: z.number().int() }),
  ),
  t(
    'charge.dispute.created',
    'New Dispute',
    'A customer disputed a charge. Use to alert the team and gather evidence before the deadline.',
    obj({ id: z.string().regex(/^(dp|du)_/), amount, currency, charge: id('ch_'), reason: z.string(), status: z.string(), evidence_details: obj({ due_by: z.number().int().nullable() }) }),
  ),
  t('invoice.paid', 'Invoice Paid', 'An invoice was paid. Use to record revenue, extend access, or end a dunning sequence.', invoice),
  t('invoice.payment_failed', 'Invoice Payment Failed', 'An invoice payment attempt failed. Use to warn the customer and start dunning.', invoice),
  t('customer.subscription.created', 'New Subscription', 'A customer started a subscription or a trial. Use to track the plan and trial.', subscription),
  t(
    'customer.subscription.deleted',
    'Subscription Canceled',
    'A subscription ended. Use to track churn, with the reason, and revoke access.',
    subscription.extend({ cancellation_details: obj({ reason: nullableString, feedback: nullableString, comment: nullableString }).optional() }),
  ),
  t(
    'payment_intent.succeeded',
    'Payment Succeeded',
    'A payment succeeded. Use to track the order or confirm a recovery.',
    obj({ id: id('pi_'), amount, amount_received: amount, currency, customer: customerRef, receipt_email: nullableString }),
  ),
  t('charge.refunded', 'Charge Refunded', 'A charge was refunded, fully or in part. Use to track refunds and adjust revenue.', charge.extend({ amount_refunded: amount })),
];

/** The event type of a per-trigger endpoint slug, among the curated and the published triggers. */
export function triggerForSlug(slug: string, publishedTypes: Iterable<string>): string | undefined {
  for (const type of [...triggers.map((x) => x.type), ...publishedTypes]) {
    if (slugOf(type) === slug) return type;
  }
  return undefined;
}
