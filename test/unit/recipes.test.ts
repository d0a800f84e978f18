import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRecipes, parseRecipe, RecipeError } from '../../src/recipes/loader';
import { createExpressionActivities } from '../../src/activities/expressions';
import { buildTestEvent } from '../../src/catalog/fixtures';

const valid = {
  id: 'r1',
  name: 'Recipe one',
  trigger: 'charge.failed',
  steps: [{ type: 'segment.identify', map: { userId: 'event.data.object.customer' } }],
};

function refusal(recipe: unknown, file = 'bad.json'): RecipeError {
  try {
    parseRecipe(file, typeof recipe === 'string' ? recipe : JSON.stringify(recipe));
  } catch (err) {
    if (err instanceof RecipeError) return err;
    throw err;
  }
  throw new Error('the recipe was accepted');
}

describe('recipe loader', () => {
  it('loads the default recipes and publishes Charge Failed → Identify', () => {
    const set = loadRecipes(path.resolve('recipes'));
    const [recipe] = set.forEventType('charge.failed');
    expect(recipe?.id).toBe('charge-failed-identify');
    expect(recipe?.steps[0]?.type).toBe('segment.identify');
    expect(recipe?.version).toMatch(/^[0-9a-f]{12}$/);
    expect(set.forEventType('customer.created')).toEqual([]);
  });

  it('versions a recipe by its content', () => {
    const a = parseRecipe('a.json', JSON.stringify(valid));
    const again = parseRecipe('a.json', JSON.stringify(valid));
    const changed = parseRecipe('a.json', JSON.stringify({ ...valid, name: 'Renamed' }));
    expect(again.version).toBe(a.version);
    expect(changed.version).not.toBe(a.version);
  });

  it('refuses invalid JSON, naming the file', () => {
    const err = refusal('{ "id": ', 'broken.json');
    expect(err.message).toMatch(/^broken\.json: not valid JSON/);
  });

  it('refuses a missing or malformed field, naming file and field', () => {
    const { trigger: _t, ...noTrigger } = valid;
    expect(refusal(noTrigger).message).toMatch(/^bad\.json: trigger: /);
    expect(refusal({ ...valid, trigger: 'Charge Failed' }).message).toMatch(/trigger: must be a Stripe event type/);
    expect(refusal({ ...valid, extra: 1 }).message).toMatch(/^bad\.json: .*extra/);
    expect(refusal({ ...valid, steps: [] }).field).toBe('steps');
  });

  it('refuses an unknown Segment action', () => {
    const err = refusal({ ...valid, steps: [{ type: 'segment.teleport', map: { userId: 'x' } }] });
    expect(err.field).toBe('steps[0].type');
    expect(err.reason).toMatch(/unknown Segment action; known: segment\.identify/);
  });

  it('refuses a JSONata syntax error, naming the step field and position', () => {
    const err = refusal({ ...valid, steps: [{ type: 'segment.identify', map: { userId: 'event.data.(' } }] });
    expect(err.field).toBe('steps[0].map.userId');
    expect(err.reason).toMatch(/invalid JSONata expression: .*\(at character \d+\)/);
  });

  it('refuses duplicate ids across files, and an unreadable folder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-recipes-'));
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(valid));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(valid));
    expect(() => loadRecipes(dir)).toThrow(/b\.json: id: duplicate recipe id "r1" \(also in a\.json\)/);
    expect(() => loadRecipes(path.join(dir, 'missing'))).toThrow(/cannot read the recipes folder \(RECIPES_DIR\)/);
  });

  it('does not publish disabled recipes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-recipes-'));
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ ...valid, enabled: false }));
    const set = loadRecipes(dir);
    expect(set.recipes).toHaveLength(1);
    expect(set.forEventType('charge.failed')).toEqual([]);
  });
});

describe('Charge Failed → Identify mapping', () => {
  const [recipe] = loadRecipes(path.resolve('recipes')).forEventType('charge.failed');
  const { evaluateMapping } = createExpressionActivities();
  const map = (event: unknown) => evaluateMapping({ where: 'test', expressions: recipe!.steps[0]!.map, data: { event } });

  it('maps the customer, billing details and the failure', async () => {
    const event = buildTestEvent('charge.failed', { customer: 'cus_map1' });
    const charge = (event as unknown as { data: { object: Record<string, any> } }).data.object;
    const b = charge.billing_details;
    const fields = await map(event);
    expect(fields.userId).toBe('cus_map1');
    expect(fields.traits).toEqual({
      email: b.email,
      name: b.name,
      phone: b.phone,
      address: { street: `${b.address.line1}, ${b.address.line2}`, city: b.address.city, postalCode: b.address.postal_code, country: b.address.country },
      last_payment_failure_code: charge.failure_code,
      last_payment_failure_message: charge.failure_message,
      last_payment_failed_at: new Date(charge.created * 1000).toISOString(),
    });
  });

  it('leaves out null billing fields instead of blanking traits', async () => {
    const event = buildTestEvent('charge.failed') as any;
    event.data.object.billing_details = { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null };
    event.data.object.receipt_email = 'receipt@example.com';
    const fields = await map(event);
    expect(fields.traits).toEqual({
      email: 'receipt@example.com',
      last_payment_failure_code: event.data.object.failure_code,
      last_payment_failure_message: event.data.object.failure_message,
      last_payment_failed_at: new Date(event.data.object.created * 1000).toISOString(),
    });
  });

  it('fails for good, naming the field, when an expression fails at run time', async () => {
    await expect(
      evaluateMapping({ where: 'recipe r1 step 0', expressions: { userId: '$number("abc") + $undefinedFn()' }, data: { event: {} } }),
    ).rejects.toMatchObject({ nonRetryable: true, message: expect.stringMatching(/^recipe r1 step 0: the mapping of "userId" failed/) });
  });
});
