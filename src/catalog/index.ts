import { z } from 'zod';
import { recipeFunctionDocs } from '../recipes/functions';
import type { RecipeSet } from '../recipes/loader';
import { actions } from './actions';
import { triggers } from './triggers';

/** GET /v1/catalog: the triggers, the actions and the published recipes, in one document. */
export function catalogDocument(recipes: RecipeSet) {
  return {
    triggers: triggers.map((t) => ({
      type: t.type,
      slug: t.slug,
      title: t.title,
      description: t.description,
      endpoint: `/v1/webhooks/stripe.trigger-${t.slug}`,
      fields: z.toJSONSchema(t.fields, { unrepresentable: 'any' }),
    })),
    anyOtherTrigger: 'Any other Stripe event type can be a recipe trigger, untyped.',
    actions: actions.map((a) => ({
      type: a.type,
      slug: a.slug,
      title: a.title,
      description: a.description,
      fields: z.toJSONSchema(a.schema, { unrepresentable: 'any' }),
    })),
    steps: {
      filter: 'Stops the recipe (outcome "filtered") unless `if`, a JSONata expression over { event, ai, lookup }, is true.',
      'stripe.lookup': 'Retrieves a Stripe object (charge, customer, invoice, payment_intent, subscription) into lookup.<as>; null without STRIPE_API_KEY.',
      classify: 'Asks an OpenAI-compatible model (OPENAI_API_KEY) to classify the picked input; the reply, validated against the declared output, lands in ai.*.',
    },
    functions: recipeFunctionDocs,
    recipes: recipes.recipes.map((r) => ({
      id: r.id,
      name: r.name,
      ...(r.description ? { description: r.description } : {}),
      file: r.file,
      enabled: r.enabled,
      trigger: r.trigger,
      version: r.version,
      steps: r.steps.map((s) => s.type),
    })),
  };
}
