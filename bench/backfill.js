#!/usr/bin/env node
'use strict';
// Backfill at scale: N events (a mix of the ten triggers) that the ingress never received, served
// by a local stand-in of the Stripe Events API (pages of 100, `types[]`, `created[gte]`,
// `starting_after`, as Stripe pages them). Times `stripe-segment backfill` until every run is
// started, then until every run is finished, then a second backfill that must skip all of them.
// The real app (`start`: embedded dev server, worker) runs them against a local Segment stand-in.
// Run `npm run build` first.
//   node bench/backfill.js [N=1000] [concurrency=8]
const { execFile } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { promisify } = require('node:util');
const { ROOT, sleep, launchApp } = require('./lib');
const { Client, Connection } = require('@temporalio/client');
const { startCaptureSink } = require('../dist/segment/capture-sink');
const { buildTestEvent, fixtureTypes } = require('../dist/catalog/fixtures');

const N = Number(process.argv[2] ?? 1000);
const CONCURRENCY = Number(process.argv[3] ?? 8);

/** GET /v1/events like Stripe: newest first, filtered, paged; any other object is not found. */
function startStripeEventsStandIn(events) {
  const newestFirst = [...events].sort((a, b) => b.created - a.created);
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const url = new URL(req.url, 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname !== '/v1/events') {
      res.statusCode = 404;
      return res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'No such object' } }));
    }
    const q = url.searchParams;
    const types = [...q.entries()].filter(([k]) => k.startsWith('types[')).map(([, v]) => v);
    const gte = Number(q.get('created[gte]') ?? 0);
    const limit = Math.min(100, Number(q.get('limit') ?? 10));
    let list = newestFirst.filter((e) => e.created >= gte && (types.length === 0 || types.includes(e.type)));
    const after = q.get('starting_after');
    if (after) list = list.slice(list.findIndex((e) => e.id === after) + 1);
    res.end(JSON.stringify({ object: 'list', url: '/v1/events', has_more: list.length > limit, data: list.slice(0, limit) }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, requests: () => requests, close: () => server.close() })),
  );
}

(async () => {
  const now = Math.floor(Date.now() / 1000);
  const events = Array.from({ length: N }, (_, i) =>
    buildTestEvent(fixtureTypes[i % fixtureTypes.length], { id: `evt_bf_${now}_${i}`, customer: `cus_bf_${i}`, created: now - 3000 + Math.floor((i * 2900) / N) }),
  );
  const stripe = await startStripeEventsStandIn(events);
  const sink = await startCaptureSink();
  const app = await launchApp({ SEGMENT_WRITE_KEY: 'bf', SEGMENT_HOST: sink.url, STRIPE_API_KEY: 'sk_test_bench', STRIPE_API_BASE: stripe.url });
  const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${app.temporalPort}` }) });
  const count = async (q) => (await client.workflow.count(`WorkflowType = "stripeEventWorkflow" ${q}`)).count;
  const backfill = async () => {
    const t0 = performance.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin/stripe-segment.js'), 'backfill', '--since', '1h', '--concurrency', String(CONCURRENCY)],
      { cwd: ROOT, env: { ...process.env, STRIPE_API_KEY: 'sk_test_bench', STRIPE_API_BASE: stripe.url, TEMPORAL_DEV_PORT: String(app.temporalPort) } },
    );
    return { ms: performance.now() - t0, summary: stdout.trim().split('\n')[0] };
  };

  try {
    const t0 = performance.now();
    const first = await backfill();
    const deadline = Date.now() + 600_000;
    while ((await count('AND ExecutionStatus != "Running"')) < N) {
      if (Date.now() > deadline) throw new Error(`backfill bench: runs still running after 10 minutes`);
      await sleep(200);
    }
    const allDoneMs = performance.now() - t0;
    const second = await backfill();
    const outcomes = {};
    for (const o of ['delivered', 'filtered', 'partial', 'failed']) outcomes[o] = await count(`AND Outcome = "${o}"`);
    const result = {
      date: new Date().toISOString(),
      events: N,
      concurrency: CONCURRENCY,
      backfillCommandS: +(first.ms / 1000).toFixed(1),
      allRunsFinishedS: +(allDoneMs / 1000).toFixed(1),
      secondBackfillS: +(second.ms / 1000).toFixed(1),
      first: first.summary,
      second: second.summary,
      outcomes,
      segmentMessages: sink.messages.length,
      stripeRequests: stripe.requests(),
    };
    console.log(JSON.stringify(result, null, 2));
    // The figures are only worth reporting if the backfill did its job: every event run once and
    // completed, the repeat started nothing, and each message reached Segment once.
    const problems = [];
    if (!first.summary.includes(`started ${N},`)) problems.push(`the first backfill did not start all ${N} runs`);
    if (!second.summary.includes(`started 0, already done ${N},`)) problems.push('the repeat started runs again');
    if ((await count('AND ExecutionStatus = "Completed"')) !== N) problems.push('not every run completed');
    if (new Set(sink.messages.map((m) => m.messageId)).size !== sink.messages.length) problems.push('a Segment message arrived twice');
    if (problems.length > 0) throw new Error(`backfill bench: ${problems.join('; ')}`);
  } finally {
    await client.connection.close();
    app.stop();
    stripe.close();
    await sink.close();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
