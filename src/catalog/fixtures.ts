import { randomBytes } from 'node:crypto';
import chargeDisputeCreated from './fixtures/charge.dispute.created.json';
import chargeFailed from './fixtures/charge.failed.json';
import chargeRefunded from './fixtures/charge.refunded.json';
import checkoutSessionCompleted from './fixtures/checkout.session.completed.json';
import customerCreated from './fixtures/customer.created.json';
import customerSubscriptionCreated from './fixtures/customer.subscription.created.json';
import customerSubscriptionDeleted from './fixtures/customer.subscription.deleted.json';
import invoicePaid from './fixtures/invoice.paid.json';
import invoicePaymentFailed from './fixtures/invoice.payment_failed.json';
import paymentIntentSucceeded from './fixtures/payment_intent.succeeded.json';

/** A realistic Stripe event envelope per curated trigger (API version 2025-09-30.clover). */
export const fixtures: Record<string, unknown> = {
  'charge.failed': chargeFailed,
  'checkout.session.completed': checkoutSessionCompleted,
  'customer.created': customerCreated,
  'charge.dispute.created': chargeDisputeCreated,
  'invoice.paid': invoicePaid,
  'invoice.payment_failed': invoicePaymentFailed,
  'customer.subscription.created': customerSubscriptionCreated,
  'customer.subscription.deleted': customerSubscriptionDeleted,
  'payment_intent.succeeded': paymentIntentSucceeded,
  'charge.refunded': chargeRefunded,
};

export const fixtureTypes = Object.keys(fixtures);

export interface TestEventOptions {
  /** Event id; default a fresh unique `evt_test_…` so each send is a new event. */
  id?: string;
  /** Stripe customer id to put on the object (`null` for a guest payment). */
  customer?: string | null;
  /** Event creation time (unix seconds); default now. */
  created?: number;
}

// Fixtures are free-form Stripe JSON that tests and the CLI reach into.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TestEvent = Record<string, unknown> & { id: string; type: string; created: number; data: { object: Record<string, any> } };

/** A fresh copy of the fixture for `type`, with a unique event id and the current time. */
export function buildTestEvent(type: string, opts: TestEventOptions = {}): TestEvent {
  const fixture = fixtures[type];
  if (!fixture) {
    throw new Error(`No test fixture for "${type}". Available: ${fixtureTypes.join(', ')}`);
  }
  const event = structuredClone(fixture) as TestEvent;
  event.id = opts.id ?? `evt_test_${randomBytes(12).toString('hex')}`;
  event.created = opts.created ?? Math.floor(Date.now() / 1000);
  event.data.object.created = event.created;
  if (opts.customer !== undefined) {
    if (event.data.object.object === 'customer') event.data.object.id = opts.customer;
    else event.data.object.customer = opts.customer;
  }
  return event;
}
