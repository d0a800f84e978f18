import { randomBytes } from 'node:crypto';
import chargeFailed from './fixtures/charge.failed.json';

/** Realistic Stripe event envelopes, one per trigger with a fixture. */
const fixtures: Record<string, unknown> = {
  'charge.failed': chargeFailed,
};

export const fixtureTypes = Object.keys(fixtures);

export interface TestEventOptions {
  /** Event id; default a fresh unique `evt_test_…` so each send is a new event. */
  id?: string;
  customer?: string;
  /** Event creation time (unix seconds); default now. */
  created?: number;
}

/** A fresh copy of the fixture for `type`, with a unique event id and the current time. */
export function buildTestEvent(type: string, opts: TestEventOptions = {}): Record<string, unknown> & { id: string; type: string } {
  const fixture = fixtures[type];
  if (!fixture) {
    throw new Error(`No test fixture for "${type}". Available: ${fixtureTypes.join(', ')}`);
  }
  const event = structuredClone(fixture) as { id: string; type: string; created: number; data: { object: Record<string, unknown> } };
  event.id = opts.id ?? `evt_test_${randomBytes(12).toString('hex')}`;
  event.created = opts.created ?? Math.floor(Date.now() / 1000);
  event.data.object.created = event.created;
  if (opts.customer) event.data.object.customer = opts.customer;
  return event as unknown as Record<string, unknown> & { id: string; type: string };
}
