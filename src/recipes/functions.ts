import type jsonata from 'jsonata';
import { v5 as uuidv5 } from 'uuid';

/**
 * Functions recipes can call in JSONata expressions, besides JSONata's own. Pure and
 * deterministic: the same input always gives the same output.
 */

/** Stripe amounts are in the currency's minor unit; these have none (https://docs.stripe.com/currencies). */
export const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** …and these have three decimals. */
export const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** `$majorUnits(1999, "usd")` → 19.99; `$majorUnits(500, "jpy")` → 500. */
export function majorUnits(amount: unknown, currency: unknown): number | undefined {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return undefined;
  const c = typeof currency === 'string' ? currency.toLowerCase() : '';
  const digits = ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
  return Number((amount / 10 ** digits).toFixed(digits));
}

/** Namespace of guest anonymousIds (UUIDv5). Never change it: profiles in Segment key on these. */
export const ANONYMOUS_ID_NAMESPACE = '0b6f4a8e-6a53-4d1e-9a57-0f7f3f0d2c41';

/**
 * `$anonymousId(email, fallbackId)` → a stable UUID for a payer with no Stripe customer: from the
 * first non-empty argument (an email is lower-cased and trimmed), so every payment of one guest
 * email lands on one anonymous profile. Undefined when every argument is empty.
 */
export function anonymousId(...values: unknown[]): string | undefined {
  for (const v of values) {
    if (typeof v === 'string' && v.trim() !== '') return uuidv5(`stripe-guest:${v.trim().toLowerCase()}`, ANONYMOUS_ID_NAMESPACE);
  }
  return undefined;
}

/** `$iso(1764771200)` → "2025-12-03T14:13:20.000Z" (Stripe times are Unix seconds). */
export function iso(seconds: unknown): string | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : undefined;
}

/** Registers the recipe functions on a compiled expression. */
export function registerRecipeFunctions(expr: ReturnType<typeof jsonata>): void {
  expr.registerFunction('majorUnits', majorUnits, '<x-s?:n>');
  expr.registerFunction('anonymousId', anonymousId);
  expr.registerFunction('iso', iso, '<x-:s>');
}

export const recipeFunctionDocs = {
  majorUnits: '$majorUnits(amount, currency): Stripe minor units → major units (zero- and three-decimal currencies respected)',
  anonymousId: '$anonymousId(email, …fallbacks): a stable UUID for a guest payer, from the first non-empty value',
  iso: '$iso(unixSeconds): ISO 8601 time',
};
