import { loadConfig } from '../../src/config';
import { actionSummary } from '../../src/recipes/steps';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { loadRecipes } from '../../src/recipes/loader';
import { backfillTypes, parseSince } from '../../src/runs/backfill';
import { runsQuery } from '../../src/runs/inspect';
import { customerOf, livemodeAccepts, runDetails, runStartOptions, runSummary } from '../../src/runs/start';
import { runOutcome, type StripeEvent } from '../../src/workflows';
import path from 'node:path';

const recipes = loadRecipes(path.resolve(__dirname, '..', '..', 'recipes'), { openai: false, defaultModel: 'm' });
const event = (type: string, opts: Parameters<typeof buildTestEvent>[1] = {}) => buildTestEvent(type, opts) as unknown as StripeEvent;

describe('run summaries: what the Web UI shows', () => {
  it('names the type, the customer, the amount in major units and the recipe count', () => {
    const e = event('charge.failed', { customer: 'cus_1' });
    const obj = e.data.object as { amount: number; currency: string };
    expect(runSummary(e, [{ id: 'a' }, { id: 'b' }])).toBe(`charge.failed · cus_1 · ${obj.currency.toUpperCase()} ${obj.amount / 100} → 2 recipes`);
    obj.currency = 'jpy';
    expect(runSummary(e, [{ id: 'a' }], 'backfill')).toBe(`charge.failed · cus_1 · JPY ${obj.amount} → 1 recipe (backfill)`);
  });

  it('falls back to the object id without a customer, and leaves out a missing amount', () => {
    const e = event('customer.created', { customer: 'cus_new' });
    expect(customerOf(e)).toBe('cus_new');
    const guest = event('charge.failed');
    guest.data.object.customer = null;
    delete guest.data.object.amount;
    expect(runSummary(guest, [])).toBe(`charge.failed · ${String(guest.data.object.id)} → 0 recipes`);
    guest.data.object.customer = { id: 'cus_expanded' };
    expect(customerOf(guest)).toBe('cus_expanded');
  });

  it('details list each recipe with its version; start options carry the search attributes', () => {
    const e = event('invoice.payment_failed', { customer: 'cus_9' });
    const snapshot = recipes.forEventType('invoice.payment_failed');
    expect(runDetails(e, snapshot, 'webhook')).toContain(`- \`${snapshot[0]!.id}\` version \`${snapshot[0]!.version}\``);
    const options = runStartOptions({ event: e, recipes: snapshot, taskQueue: 'q', via: 'backfill' });
    expect(options.workflowId).toBe(`stripe/${e.id}`);
    expect(options.workflowIdReusePolicy).toBe('REJECT_DUPLICATE');
    expect(Object.fromEntries(options.typedSearchAttributes.map((p) => [p.key.name, p.value]))).toEqual({
      StripeEventType: 'invoice.payment_failed',
      RecipeIds: snapshot.map((r) => r.id),
      StripeLivemode: e.livemode,
      StripeCustomerId: 'cus_9',
      StripeObjectId: e.data.object.id,
    });
    expect(options.memo.via).toBe('backfill');
  });

  it('activity summaries name the action and who it is about', () => {
    expect(actionSummary('segment.identify', { userId: 'cus_1', traits: {} })).toBe('Segment identify cus_1');
    expect(actionSummary('segment.track', { anonymousId: 'a-1', event: 'Order Completed' })).toBe('Segment track "Order Completed" a-1');
    expect(actionSummary('segment.group', { userId: 'u', groupId: 'g' })).toBe('Segment group u');
    expect(actionSummary('dunning.open', { key: 'in_1' })).toBe('Dunning open in_1');
    expect(actionSummary('segment.page', { name: 'x'.repeat(200) })).toHaveLength(120);
  });
});

describe('run outcome', () => {
  const r = (...outcomes: ('delivered' | 'filtered' | 'failed')[]) => outcomes.map((outcome) => ({ outcome }));
  it.each([
    [r('delivered'), 'delivered'],
    [r('delivered', 'filtered'), 'delivered'],
    [r('filtered', 'filtered'), 'filtered'],
    [r('delivered', 'failed'), 'partial'],
    [r('filtered', 'failed'), 'partial'],
    [r('failed', 'failed'), 'failed'],
  ])('%j → %s', (results, expected) => {
    expect(runOutcome(results)).toBe(expected);
  });
});

describe('runs list query', () => {
  it('is the Web UI query for the filters, with values quoted', () => {
    expect(runsQuery({})).toBe('WorkflowType = "stripeEventWorkflow"');
    expect(runsQuery({ type: 'charge.failed', customer: 'cus_"1\\', outcome: 'failed', status: 'Failed', since: new Date('2026-12-01T00:00:00Z') })).toBe(
      'WorkflowType = "stripeEventWorkflow" AND StripeEventType = "charge.failed" AND StripeCustomerId = "cus_\\"1\\\\" AND Outcome = "failed" AND ExecutionStatus = "Failed" AND StartTime >= "2026-12-01T00:00:00.000Z"',
    );
  });
});

describe('backfill inputs', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  it('takes durations and dates, and refuses the future, junk and beyond 30 days', () => {
    expect(parseSince('90m', now)).toBe(now / 1000 - 5400);
    expect(parseSince('7d', now)).toBe(now / 1000 - 7 * 86400);
    expect(parseSince('2026-11-30', now)).toBe(Date.parse('2026-11-30') / 1000);
    expect(() => parseSince('2026-12-04', now)).toThrow('is in the future');
    expect(() => parseSince('31d', now)).toThrow('Stripe keeps events for 30 days only');
    expect(() => parseSince('yesterday', now)).toThrow('--since takes a duration (90m, 36h, 7d) or a date');
    expect(parseSince('90d', now, Infinity)).toBe(now / 1000 - 90 * 86400);
  });

  it('lists the published triggers, or the requested ones when each has a recipe', () => {
    expect(backfillTypes(recipes)).toEqual(recipes.triggers);
    expect(backfillTypes(recipes, ['charge.failed', 'charge.failed'])).toEqual(['charge.failed']);
    expect(() => backfillTypes(recipes, ['charge.failed', 'plan.created'])).toThrow('No published recipe is triggered by plan.created');
  });

  it('applies STRIPE_LIVEMODE as the ingress does', () => {
    expect(livemodeAccepts('test', { livemode: false })).toBe(true);
    expect(livemodeAccepts('test', { livemode: true })).toBe(false);
    expect(livemodeAccepts('live', { livemode: false })).toBe(false);
    expect(livemodeAccepts('both', { livemode: true })).toBe(true);
  });
});

describe('reconciliation config', () => {
  it('is off unless set, and reads durations', () => {
    expect(loadConfig({}).RECONCILE_INTERVAL).toBeUndefined();
    expect(loadConfig({ RECONCILE_INTERVAL: 'off' }).RECONCILE_INTERVAL).toBeUndefined();
    expect(loadConfig({ RECONCILE_INTERVAL: '15m' }).RECONCILE_INTERVAL).toBe(900);
    expect(loadConfig({}).RECONCILE_LOOKBACK).toBe(3600);
    expect(loadConfig({ RECONCILE_LOOKBACK: '3d' }).RECONCILE_LOOKBACK).toBe(3 * 86400);
    expect(() => loadConfig({ RECONCILE_INTERVAL: 'hourly' })).toThrow('RECONCILE_INTERVAL: must be a duration such as 15m or 1h, or off');
  });
});
