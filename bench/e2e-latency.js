#!/usr/bin/env node
'use strict';
// Latency of one event at a time, webhook POST → Segment, through the real app (`stripe-segment start`
// with its embedded Temporal dev server) and a local Segment stand-in. Run `npm run build` first.
//   node bench/e2e-latency.js [events=30]
// Scenarios, each on a fresh app in the same run so they compare as ratios:
//   charge.failed (identify + track); charge.dispute.created without AI (classify skipped);
//   charge.dispute.created with a classify call to a local OpenAI-compatible stand-in that answers at once;
//   charge.failed again with TEMPORAL_EAGER_START=true (the eager-start lever, same run).
const http = require('node:http');
const Stripe = require('stripe');
const { sleep, pct, launchApp } = require('./lib');
const { startCaptureSink } = require('../dist/segment/capture-sink');
const { buildTestEvent } = require('../dist/catalog/fixtures');

const N = Number(process.argv[2] ?? 30);
const WARMUP = 5;

/** An OpenAI-compatible stand-in that answers every classify call at once. */
function openAIStandIn() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-bench',
            object: 'chat.completion',
            created: 0,
            model: 'bench',
            choices: [{ index: 0, message: { role: 'assistant', content: '{"urgency":"high","cause":"fraud"}', refusal: null }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
          }),
        );
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/v1`, close: () => server.close() }));
  });
}

async function scenario(name, type, extraEnv, expectedMessages) {
  const arrivals = new Map(); // stripe event id → [arrival times]
  const sink = await startCaptureSink({
    respond: (batch) => {
      const now = performance.now();
      for (const m of batch) {
        const id = m.context?.stripe?.event_id;
        arrivals.set(id, [...(arrivals.get(id) ?? []), now]);
      }
      return undefined;
    },
  });
  const app = await launchApp({ SEGMENT_WRITE_KEY: 'bench', SEGMENT_HOST: sink.url, ...extraEnv });
  const { base, secret, startupMs } = app;

  const ack = [];
  const e2e = [];
  const first = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const event = buildTestEvent(type, { customer: type === 'charge.dispute.created' ? undefined : `cus_bench_${i}` });
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const start = performance.now();
    const res = await fetch(`${base}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
    const acked = performance.now();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    while ((arrivals.get(event.id) ?? []).length < expectedMessages) await sleep(1);
    if (i >= WARMUP) {
      ack.push(acked - start);
      e2e.push(Math.max(...arrivals.get(event.id)) - start);
      first.push(Math.min(...arrivals.get(event.id)) - start);
    }
  }
  app.stop();
  await sink.close();
  return { name, startupMs, ack, e2e, first };
}

(async () => {
  const ai = await openAIStandIn();
  const results = [
    await scenario('charge.failed (identify + track)', 'charge.failed', {}, 2),
    await scenario('charge.dispute.created, no AI (classify skipped)', 'charge.dispute.created', {}, 1),
    await scenario('charge.dispute.created + classify (local stand-in)', 'charge.dispute.created', { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: ai.url }, 2),
    await scenario('charge.failed, eager start on', 'charge.failed', { TEMPORAL_EAGER_START: 'true' }, 2),
  ];
  ai.close();
  console.log(`${N} sequential events per scenario (after ${WARMUP} warm-up), ms; end to end = POST → last Segment message of the event`);
  console.log('| scenario | ack p50 | ack p95 | first msg p50 | e2e p50 | e2e p95 | e2e max | startup (s) |\n| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const f = (x) => x.toFixed(1);
    console.log(`| ${r.name} | ${f(pct(r.ack, 50))} | ${f(pct(r.ack, 95))} | ${f(pct(r.first, 50))} | ${f(pct(r.e2e, 50))} | ${f(pct(r.e2e, 95))} | ${f(Math.max(...r.e2e))} | ${(r.startupMs / 1000).toFixed(1)} |`);
  }
  const [plain, noAi, withAi, eager] = results;
  console.log(`eager workflow start changes the first Segment message of a charge.failed by ${(pct(eager.first, 50) - pct(plain.first, 50)).toFixed(1)} ms at p50 (${pct(eager.first, 50).toFixed(1)} vs ${pct(plain.first, 50).toFixed(1)} ms) and the ack by ${(pct(eager.ack, 50) - pct(plain.ack, 50)).toFixed(1)} ms`);
  // The first message of a dispute ("Dispute Created") comes right after the classify step (or its skip).
  console.log(`one classify call adds ${(pct(withAi.first, 50) - pct(noAi.first, 50)).toFixed(1)} ms at p50 to a run (first Segment message of a dispute, stand-in vs no AI)`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
