import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';
import type { StripeLookupObject } from '../recipes/types';

export interface StripeDeps {
  /** Absent when STRIPE_API_KEY is unset: lookups then return null and recipes fall back. */
  stripe?: Stripe;
}

export interface StripeLookupInput {
  object: StripeLookupObject;
  id: unknown;
  where: string;
}

export interface StripeLookupResult {
  /** The Stripe object, or null when there is no API key, no id, or no such object. */
  object: Record<string, unknown> | null;
  note?: 'no STRIPE_API_KEY' | 'no id' | 'not found';
}

/** A Stripe API client: the worker's (lookups, reconciliation) and the CLI's (backfill, webhooks). */
export function createStripeClient(apiKey: string, apiBase?: string, { maxNetworkRetries = 0 } = {}): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  return new Stripe(apiKey, {
    // In activities Temporal retries, visibly in history: the SDK must not retry behind its back.
    // The CLI, which has no Temporal retry around it, asks for a few.
    maxNetworkRetries,
    timeout: 10_000,
    ...(base
      ? { host: base.hostname, port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)), protocol: base.protocol.replace(':', '') as 'http' | 'https' }
      : {}),
  });
}

export function createStripeActivities({ stripe }: StripeDeps) {
  return {
    /** Retrieves one Stripe object for a recipe's `stripe.lookup` step. */
    async stripeLookup(input: StripeLookupInput): Promise<StripeLookupResult> {
      if (!stripe) return { object: null, note: 'no STRIPE_API_KEY' };
      if (typeof input.id !== 'string' || input.id === '') return { object: null, note: 'no id' };
      const resources = {
        charge: (id: string) => stripe.charges.retrieve(id),
        customer: (id: string) => stripe.customers.retrieve(id),
        invoice: (id: string) => stripe.invoices.retrieve(id),
        payment_intent: (id: string) => stripe.paymentIntents.retrieve(id),
        subscription: (id: string) => stripe.subscriptions.retrieve(id),
      } satisfies Record<StripeLookupObject, (id: string) => Promise<unknown>>;
      try {
        const found = await resources[input.object](input.id);
        return { object: JSON.parse(JSON.stringify(found)) as Record<string, unknown> };
      } catch (err) {
        if (err instanceof Stripe.errors.StripeError && err.statusCode === 404) return { object: null, note: 'not found' };
        throw classifyStripeError(err, `${input.where}: Stripe ${input.object} ${input.id}`);
      }
    },
  };
}

/** 429, 5xx and network errors retry; other 4xx are permanent, with Stripe's message. */
export function classifyStripeError(err: unknown, what: string): ApplicationFailure | Error {
  if (!(err instanceof Stripe.errors.StripeError)) return err as Error;
  const status = err.statusCode;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 409) {
    const hint = status === 401 || status === 403 ? ' Check STRIPE_API_KEY.' : '';
    return ApplicationFailure.nonRetryable(`${what}: Stripe answered ${status}: ${err.message}.${hint}`, 'StripeRejected');
  }
  return ApplicationFailure.retryable(`${what}: Stripe unavailable (will retry): ${err.message}`, 'StripeUnavailable');
}
