import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsonata from 'jsonata';
import { z } from 'zod';
import { actionFor, actions } from '../catalog/actions';
import { STRIPE_LOOKUP_OBJECTS, type RecipeSnapshot, type RecipeStep } from './types';

const expression = z.string().trim().min(1, 'must be a JSONata expression');

const filterStep = z.object({ type: z.literal('filter'), if: expression, description: z.string().optional() }).strict();
const lookupStep = z
  .object({
    type: z.literal('stripe.lookup'),
    object: z.enum(STRIPE_LOOKUP_OBJECTS),
    id: expression,
    as: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'must be a name such as "charge"'),
    description: z.string().optional(),
  })
  .strict();
const classifyOutput = z
  .record(
    z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'output fields are names such as "urgency"'),
    z.union([z.array(z.string().min(1)).min(2, 'give at least two labels'), z.enum(['string', 'number', 'boolean'])]),
  )
  .refine((o) => Object.keys(o).length > 0, 'declare at least one output field');
const classifyStep = z
  .object({
    type: z.literal('classify'),
    model: z.string().min(1).optional(),
    instructions: z.string().min(1, 'say what the model should decide'),
    input: expression,
    output: classifyOutput,
    optional: z.boolean().optional(),
    description: z.string().optional(),
  })
  .strict();
const actionStep = z
  .object({
    type: z.string(),
    map: z.record(z.string(), expression).default({}),
    with: z.record(z.string(), z.unknown()).optional(),
    description: z.string().optional(),
  })
  .strict();

const STEP_TYPES = ['filter', 'stripe.lookup', 'classify', ...actions.map((a) => a.type)];

/** What loading depends on besides the files. */
export interface LoadOptions {
  /** Whether OPENAI_API_KEY is set: classify steps need it. */
  openai: boolean;
  /** OPENAI_MODEL: the model of classify steps that name none. */
  defaultModel: string;
}

/** Without options: as `start` with no OpenAI key and the default model. */
const DEFAULT_LOAD: LoadOptions = { openai: false, defaultModel: 'gpt-4o-mini' };

export const recipeFileSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    trigger: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be a Stripe event type such as "charge.failed"'),
    steps: z.array(z.record(z.string(), z.unknown())).min(1, 'a recipe needs at least one step'),
  })
  .strict();

export interface LoadedRecipe extends RecipeSnapshot {
  file: string;
  enabled: boolean;
  description?: string;
}

export class RecipeError extends Error {
  override name = 'RecipeError';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${reason}`);
  }
}

function fieldPath(p: ReadonlyArray<PropertyKey>): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function compileOrRefuse(file: string, field: string, expr: string): void {
  try {
    jsonata(expr);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new RecipeError(
      file,
      field,
      `invalid JSONata expression: ${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`,
    );
  }
}

function parseStep(file: string, i: number, raw: Record<string, unknown>, opts: LoadOptions): RecipeStep {
  const at = `steps[${i}]`;
  const refuse = (schemaResult: z.ZodSafeParseError<unknown>): never => {
    const issue = schemaResult.error.issues[0]!;
    throw new RecipeError(file, `${at}${issue.path.length ? `.${fieldPath(issue.path)}` : ''}`, issue.message);
  };
  const type = raw.type;
  if (type === 'filter') {
    const r = filterStep.safeParse(raw);
    if (!r.success) return refuse(r);
    compileOrRefuse(file, `${at}.if`, r.data.if);
    return { kind: 'filter', type: 'filter', if: r.data.if };
  }
  if (type === 'stripe.lookup') {
    const r = lookupStep.safeParse(raw);
    if (!r.success) return refuse(r);
    compileOrRefuse(file, `${at}.id`, r.data.id);
    return { kind: 'lookup', type: 'stripe.lookup', object: r.data.object, id: r.data.id, as: r.data.as };
  }
  if (type === 'classify') {
    const r = classifyStep.safeParse(raw);
    if (!r.success) return refuse(r);
    compileOrRefuse(file, `${at}.input`, r.data.input);
    const step: RecipeStep = {
      kind: 'classify',
      type: 'classify',
      model: r.data.model ?? opts.defaultModel,
      instructions: r.data.instructions,
      input: r.data.input,
      output: r.data.output,
    };
    if (!opts.openai) {
      // An optional AI step is skipped without a key (its index stays, so messageIds do not
      // move); the recipe runs with an empty `ai`.
      if (r.data.optional) return { ...step, skipped: 'no OPENAI_API_KEY' };
      throw new RecipeError(
        file,
        at,
        'a classify step needs OPENAI_API_KEY, which is not set. Set it (and OPENAI_BASE_URL for a compatible endpoint), or mark the step "optional": true to run the recipe without AI.',
      );
    }
    return step;
  }
  const action = typeof type === 'string' ? actionFor(type) : undefined;
  if (!action) {
    throw new RecipeError(file, `${at}.type`, `unknown step type ${JSON.stringify(type)}; known: ${STEP_TYPES.join(', ')}`);
  }
  const r = actionStep.safeParse(raw);
  if (!r.success) return refuse(r);
  const map = { ...action.defaults, ...r.data.map };
  if (Object.keys(map).length === 0) throw new RecipeError(file, `${at}.map`, 'must map at least one field');
  for (const [field, expr] of Object.entries(r.data.map)) compileOrRefuse(file, `${at}.map.${field}`, expr);
  if (r.data.with && !action.options) throw new RecipeError(file, `${at}.with`, `${action.type} takes no settings`);
  let options: Record<string, unknown> | undefined;
  if (action.options) {
    const o = action.options.safeParse(r.data.with ?? {});
    if (!o.success) {
      const issue = o.error.issues[0]!;
      throw new RecipeError(file, `${at}.with${issue.path.length ? `.${fieldPath(issue.path)}` : ''}`, issue.message);
    }
    options = o.data;
  }
  return { kind: 'action', type: action.type, activity: action.activity, map, ...(options ? { options } : {}) };
}

/** Parses, validates and compiles one recipe file. Throws a RecipeError naming the file and the field. */
export function parseRecipe(file: string, text: string, opts: LoadOptions = DEFAULT_LOAD): LoadedRecipe {
  const name = path.basename(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RecipeError(name, '', `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = recipeFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RecipeError(name, fieldPath(issue.path), issue.message);
  }
  const recipe = parsed.data;
  const steps = recipe.steps.map((s, i) => parseStep(name, i, s, opts));
  if (!steps.some((s) => s.kind === 'action')) {
    throw new RecipeError(name, 'steps', 'a recipe needs at least one action step (e.g. segment.track)');
  }
  return {
    id: recipe.id,
    name: recipe.name,
    ...(recipe.description ? { description: recipe.description } : {}),
    enabled: recipe.enabled,
    trigger: recipe.trigger,
    steps,
    version: createHash('sha256').update(text).digest('hex').slice(0, 12),
    file: name,
  };
}

/** The snapshot a run receives: what the workflow needs, nothing about files. */
export function snapshotOf(r: LoadedRecipe): RecipeSnapshot {
  return { id: r.id, name: r.name, version: r.version, trigger: r.trigger, steps: r.steps };
}

export class RecipeSet {
  private readonly byTrigger = new Map<string, RecipeSnapshot[]>();

  constructor(readonly recipes: LoadedRecipe[]) {
    for (const r of recipes) {
      if (!r.enabled) continue;
      const list = this.byTrigger.get(r.trigger) ?? [];
      list.push(snapshotOf(r));
      this.byTrigger.set(r.trigger, list);
    }
  }

  /** The published (enabled) recipes whose trigger is this Stripe event type. */
  forEventType(type: string): RecipeSnapshot[] {
    return this.byTrigger.get(type) ?? [];
  }

  byId(id: string): LoadedRecipe | undefined {
    return this.recipes.find((r) => r.id === id);
  }

  get triggers(): string[] {
    return [...this.byTrigger.keys()].sort();
  }
}

/** Loads every `*.json` recipe in the folder. Any invalid file refuses the whole set. */
export function loadRecipes(dir: string, opts: LoadOptions = DEFAULT_LOAD): RecipeSet {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new RecipeError(dir, '', `cannot read the recipes folder (RECIPES_DIR): ${(err as Error).message}`);
  }
  const recipes = entries.map((f) => parseRecipe(f, readFileSync(path.join(dir, f), 'utf8'), opts));
  const seen = new Map<string, string>();
  for (const r of recipes) {
    const other = seen.get(r.id);
    if (other) throw new RecipeError(r.file, 'id', `duplicate recipe id "${r.id}" (also in ${other})`);
    seen.set(r.id, r.file);
  }
  return new RecipeSet(recipes);
}
