import type { ActionMeta } from '../activities/segment';
import type { RecipeSnapshot } from './types';

/**
 * Pure helpers shared by the workflow and the dry run, so both describe and key a step the same
 * way. Deterministic: safe in workflow code.
 */

/** "recipe <id>@<version> step <n> (<type>)": how errors name a step. */
export function stepWhere(recipe: Pick<RecipeSnapshot, 'id' | 'version'>, index: number, type: string): string {
  return `recipe ${recipe.id}@${recipe.version} step ${index} (${type})`;
}

/** What an action activity is told about where it runs; the seed makes messageIds and idempotency keys. */
export function actionMeta(event: { id: string; type: string; created: number }, recipeId: string, index: number, where: string): ActionMeta {
  return {
    idempotencySeed: `${event.id}/${recipeId}/${index}`,
    timestamp: new Date(event.created * 1000).toISOString(),
    stripeEventId: event.id,
    stripeEventType: event.type,
    where,
  };
}
