import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import { DURATION, durationMs } from '../duration';
import type { RecipeSet } from '../recipes/loader';
import type { StripeEvent } from '../workflows';
import { livemodeAccepts, startStripeRun, type LivemodeFilter } from './start';

/** Stripe's Events API accepts at most 20 types per request. */
const TYPES_PER_REQUEST = 20;
/** Stripe keeps events for 30 days. */
export const STRIPE_EVENT_HISTORY_SECONDS = 30 * 24 * 3600;

export interface BackfillOptions {
  client: Client;
  stripe: Stripe;
  /** The published recipes: which types to list, and the snapshot each run gets. */
  recipes: RecipeSet;
  taskQueue: string;
  /** Unix seconds: list events created at or after this. */
  since: number;
  /** Only these types (each must have a published recipe). Default: every published trigger. */
  types?: string[];
  livemode: LivemodeFilter;
  /** Starts in flight at once. Default 8. */
  concurrency?: number;
  /** What the runs' details say started them: `backfill` or `reconciliation`. */
  via: string;
  onListed?(count: number): void;
  onProgress?(summary: BackfillSummary): void;
}

export interface BackfillSummary {
  /** Events Stripe listed for the types. */
  seen: number;
  /** Runs started now: the event had not been processed. */
  started: number;
  /** A run with its id exists: the ingress (or an earlier backfill) already took it. */
  alreadyDone: number;
  /** Skipped: STRIPE_LIVEMODE filters it out, or a thin event. */
  ignored: number;
  /** Temporal refused the start; run the backfill again to retry these. */
  failed: number;
  failures: { eventId: string; error: string }[];
}

/** The types a backfill lists: the published triggers, or the requested ones if each has a recipe. */
export function backfillTypes(recipes: RecipeSet, requested?: string[]): string[] {
  const published = recipes.triggers;
  if (!requested || requested.length === 0) return published;
  const unknown = requested.filter((t) => !published.includes(t));
  if (unknown.length > 0) {
    throw new Error(`No published recipe is triggered by ${unknown.join(', ')}. Published triggers: ${published.join(', ') || 'none'}.`);
  }
  return [...new Set(requested)];
}

/**
 * Lists the events of the types since `since` through the Stripe Events API, oldest first (so a
 * failure is started before the recovery that follows it).
 */
export async function listStripeEvents(stripe: Stripe, types: string[], since: number, onListed?: (n: number) => void): Promise<StripeEvent[]> {
  const events: StripeEvent[] = [];
  for (let i = 0; i < types.length; i += TYPES_PER_REQUEST) {
    const params = { types: types.slice(i, i + TYPES_PER_REQUEST), created: { gte: since }, limit: 100 };
    for await (const event of stripe.events.list(params)) {
      events.push(JSON.parse(JSON.stringify(event)) as StripeEvent);
      onListed?.(events.length);
    }
  }
  return events.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
}

/**
 * Starts a run for every listed event, with the ingress's id rule: events already processed are
 * counted as already done and not run twice. Never throws for one event: a start Temporal refuses
 * is counted as failed with its reason.
 */
export async function backfill(opts: BackfillOptions): Promise<BackfillSummary> {
  const types = backfillTypes(opts.recipes, opts.types);
  const summary: BackfillSummary = { seen: 0, started: 0, alreadyDone: 0, ignored: 0, failed: 0, failures: [] };
  if (types.length === 0) return summary;
  const events = await listStripeEvents(opts.stripe, types, opts.since, opts.onListed);
  summary.seen = events.length;
  opts.onProgress?.(summary);

  let next = 0;
  const startOne = async (event: StripeEvent) => {
    const recipes = opts.recipes.forEventType(event.type);
    if (!livemodeAccepts(opts.livemode, event) || recipes.length === 0 || event.object === 'v2.core.event') {
      summary.ignored++;
      return;
    }
    try {
      const { duplicate } = await startStripeRun(opts.client, { event, recipes, taskQueue: opts.taskQueue, via: opts.via });
      if (duplicate) summary.alreadyDone++;
      else summary.started++;
    } catch (err) {
      summary.failed++;
      summary.failures.push({ eventId: event.id, error: (err as Error).message });
    }
  };
  const lane = async () => {
    while (next < events.length) {
      const event = events[next++]!;
      await startOne(event);
      opts.onProgress?.(summary);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, lane));
  return summary;
}

/**
 * `--since` as a Unix time: a duration back from now (`90m`, `36h`, `7d`) or a date (`2026-11-30`,
 * ISO 8601). Refuses the future, and anything older than `maxAgeSeconds` (Stripe keeps events 30 days).
 */
export function parseSince(value: string, now = Date.now(), maxAgeSeconds = STRIPE_EVENT_HISTORY_SECONDS): number {
  let ms: number;
  if (DURATION.test(value.trim())) {
    ms = now - durationMs(value);
  } else {
    ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new Error(`--since takes a duration (90m, 36h, 7d) or a date (2026-11-30, ISO 8601); got "${value}".`);
  }
  if (ms > now) throw new Error(`--since ${value} is in the future.`);
  const seconds = Math.floor(ms / 1000);
  if (now / 1000 - seconds > maxAgeSeconds) {
    throw new Error(`--since ${value} is more than 30 days ago; Stripe keeps events for 30 days only.`);
  }
  return seconds;
}
