'use strict';
// Bench only (`node bench/run.js --engine-levers`): a sketch of the "fewer history events per run"
// lever. Each recipe's steps run as one activity instead of one activity per Segment call with
// local activities for mapping, so a run writes about a third fewer history events (12 against
// 18.7 in the recorded run). The price,
// which is why the service does not do this: a retry repeats every step of the recipe, and the
// history no longer shows each step, its summary and its own retries.
const { proxyActivities, upsertSearchAttributes } = require('@temporalio/workflow');
const { SA } = require('../../dist/temporal/search-attributes');

const { runRecipe } = proxyActivities({
  startToCloseTimeout: '90s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

exports.stripeEventWorkflow = async function stripeEventWorkflow({ event, recipes }) {
  const results = await Promise.all(recipes.map((recipe) => runRecipe({ event, recipe })));
  upsertSearchAttributes([{ key: SA.outcome, value: 'delivered' }]);
  return { eventId: event.id, recipes: results };
};
