#!/usr/bin/env node
'use strict';
// Baseline 2 of bench/run.js: the project's own workflow code on a worker whose activities all
// do nothing (mapping gives no fields, filters pass, actions return at once). What remains is the
// engine: workflow tasks, activity tasks and history writes. The ceiling of any end-to-end rate.
//   TEMPORAL_ADDRESS=… TASK_QUEUE=… [WORKFLOWS_PATH=…] node bench/noop-worker.js
// WORKFLOWS_PATH runs a variant of the workflow code instead (bench/run.js --engine-levers).
const { NativeConnection, Worker, Runtime, DefaultLogger } = require('@temporalio/worker');
const { createActivities } = require('../dist/activities');
const { prebuiltBundle } = require('../dist/worker/bundle');

Runtime.install({ logger: new DefaultLogger('WARN') });

(async () => {
  // The same activity names the real worker registers, each a no-op of the right shape.
  const names = Object.keys(createActivities({ analytics: { on() {} }, integration: { name: 'bench', version: '0' } }));
  const noop = { evaluateMapping: async () => ({}), evaluateFilter: async () => true, stripeLookup: async () => ({ object: null }) };
  // runRecipe: the one activity per recipe of bench/variants/one-activity-per-recipe.js.
  const activities = Object.fromEntries([...names, 'runRecipe'].map((n) => [n, noop[n] ?? (async () => ({}))]));
  // The project's code loads like the service's worker does (the pre-built bundle when it is up to
  // date), so both drains include the same worker start; a variant is bundled at start.
  const bundle = !process.env.WORKFLOWS_PATH && prebuiltBundle();
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: process.env.WORKFLOWS_PATH || require.resolve('../dist/workflows') }),
    activities,
  });
  process.on('SIGTERM', () => worker.shutdown());
  process.stdout.write('ready\n');
  await worker.run();
  await connection.close();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
