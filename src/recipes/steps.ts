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

/** Collapses a value to one short line for the Web UI. */
function oneLine(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The one-line summary the Web UI shows on an action's activity, e.g. `Segment identify cus_123`
 * or `Segment track "Order Completed" cus_123`: the action, and who or what it is about.
 */
export function actionSummary(actionType: string, fields: Record<string, unknown>): string {
  const [service = actionType, verb = ''] = actionType.split('.');
  const title = `${service.charAt(0).toUpperCase()}${service.slice(1)} ${verb}`.trim();
  const subject = ['userId', 'anonymousId', 'groupId', 'previousId', 'key']
    .map((k) => fields[k])
    .find((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  const name = typeof fields.event === 'string' ? ` "${fields.event}"` : typeof fields.name === 'string' ? ` "${fields.name}"` : '';
  return oneLine(`${title}${name}${subject !== undefined ? ` ${subject}` : ''}`);
}

/** Summary of a lookup, classify, map or filter step's activity. */
export function stepSummary(recipeId: string, index: number, what: string): string {
  return oneLine(`${what} · ${recipeId} step ${index}`);
}
