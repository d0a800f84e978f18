import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsonata from 'jsonata';
import { z } from 'zod';
import { isSegmentAction, segmentActions } from '../catalog/segment-actions';
import type { RecipeSnapshot } from './types';

const expression = z.string().trim().min(1, 'must be a JSONata expression');

const segmentStep = z
  .object({
    type: z
      .string()
      .regex(/^segment\.[a-z]+$/, 'must be "segment.<action>"')
      .refine((t) => isSegmentAction(t.slice('segment.'.length)), {
        message: `unknown Segment action; known: ${Object.keys(segmentActions)
          .map((a) => `segment.${a}`)
          .join(', ')}`,
      }),
    map: z.record(z.string(), expression).refine((m) => Object.keys(m).length > 0, 'must map at least one field'),
  })
  .strict();

export const recipeFileSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    trigger: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be a Stripe event type such as "charge.failed"'),
    steps: z.array(segmentStep).min(1, 'a recipe needs at least one step'),
  })
  .strict();

export interface LoadedRecipe extends RecipeSnapshot {
  file: string;
  enabled: boolean;
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

/** Parses, validates and compiles one recipe file. Throws a RecipeError naming the file and the field. */
export function parseRecipe(file: string, text: string): LoadedRecipe {
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
  recipe.steps.forEach((step, i) => {
    for (const [field, expr] of Object.entries(step.map)) {
      try {
        jsonata(expr);
      } catch (err) {
        const e = err as { message?: string; position?: number };
        throw new RecipeError(
          name,
          `steps[${i}].map.${field}`,
          `invalid JSONata expression: ${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`,
        );
      }
    }
  });
  return {
    id: recipe.id,
    name: recipe.name,
    enabled: recipe.enabled,
    trigger: recipe.trigger,
    steps: recipe.steps as RecipeSnapshot['steps'],
    version: createHash('sha256').update(text).digest('hex').slice(0, 12),
    file: name,
  };
}

export class RecipeSet {
  private readonly byTrigger = new Map<string, RecipeSnapshot[]>();

  constructor(readonly recipes: LoadedRecipe[]) {
    for (const r of recipes) {
      if (!r.enabled) continue;
      const { file: _file, enabled: _enabled, ...snapshot } = r;
      const list = this.byTrigger.get(r.trigger) ?? [];
      list.push(snapshot);
      this.byTrigger.set(r.trigger, list);
    }
  }

  /** The published (enabled) recipes whose trigger is this Stripe event type. */
  forEventType(type: string): RecipeSnapshot[] {
    return this.byTrigger.get(type) ?? [];
  }

  get triggers(): string[] {
    return [...this.byTrigger.keys()].sort();
  }
}

/** Loads every `*.json` recipe in the folder. Any invalid file refuses the whole set. */
export function loadRecipes(dir: string): RecipeSet {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new RecipeError(dir, '', `cannot read the recipes folder (RECIPES_DIR): ${(err as Error).message}`);
  }
  const recipes = entries.map((f) => parseRecipe(f, readFileSync(path.join(dir, f), 'utf8')));
  const seen = new Map<string, string>();
  for (const r of recipes) {
    const other = seen.get(r.id);
    if (other) throw new RecipeError(r.file, 'id', `duplicate recipe id "${r.id}" (also in ${other})`);
    seen.set(r.id, r.file);
  }
  return new RecipeSet(recipes);
}
