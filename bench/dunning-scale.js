#!/usr/bin/env node
'use strict';
// Dunning at scale: opens N concurrent sequences through the real ingress (signed
// invoice.payment_failed events), then recovers them all (invoice.paid), on the embedded dev
// server with a local Segment stand-in. Reports times, RSS, and the Segment message count, which
// must be exactly the expected number. Run `npm run build` first.
//   node bench/dunning-scale.js [N=10000] [concurrency=32]
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const Stripe = require('stripe');
const { sleep, launchApp } = require('./lib');
const { Client, Connection } = require('@temporalio/client');
const { startCaptureSink } = require('../dist/segment/capture-sink');
const { buildTestEvent } = require('../dist/catalog/fixtures');

const N = Number(process.argv[2] ?? 10000);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const rssMb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN;
  }
};

(async () => {
  const sink = await startCaptureSink();
  const app = await launchApp({ SEGMENT_WRITE_KEY: 'scale', SEGMENT_HOST: sink.url });
  const { base, secret } = app;
  const devServerPid = Number(execFileSync('pgrep', ['-P', String(app.child.pid)]).toString().trim().split('\n')[0]);
  const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${app.temporalPort}` }) });
  const count = async (q) => (await client.workflow.count(q)).count;

  let errors = 0;
  const post = async (event) => {
    const payload = JSON.stringify(event);
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${base}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
        body: payload,
      }).catch(() => undefined);
      if (res?.status === 200) return;
      errors++;
      if (attempt > 20) throw new Error(`event ${event.id}: HTTP ${res?.status}`);
      await sleep(200 * (attempt + 1)); // as Stripe would, sooner
    }
  };
  const event = (type, i) => {
    const e = buildTestEvent(type, { id: `evt_scale_${type === 'invoice.paid' ? 'p' : 'f'}_${i}` });
    e.data.object.id = `in_scale_${i}`;
    e.data.object.customer = `cus_scale_${i}`;
    return e;
  };
  const pump = async (type) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) await post(event(type, next++));
      }),
    );
  };
  let peak = { worker: 0, devServer: 0 };
  const sampler = setInterval(() => {
    peak = { worker: Math.max(peak.worker, rssMb(app.child.pid)), devServer: Math.max(peak.devServer, rssMb(devServerPid)) };
  }, 500);

  const t0 = performance.now();
  await pump('invoice.payment_failed');
  const acked = performance.now();
  const running = 'WorkflowType = "dunningWorkflow" AND ExecutionStatus = "Running"';
  while ((await count(running)) < N) await sleep(500);
  const opened = performance.now();
  console.error(`opened ${N} sequences`);

  await pump('invoice.paid');
  const recoveryAcked = performance.now();
  while ((await count('WorkflowType = "dunningWorkflow" AND ExecutionStatus = "Completed"')) < N) await sleep(500);
  // Every recovered sequence sends Payment Recovered + the dunning_status identify.
  const expected = 4 * N; // Invoice Payment Failed + Invoice Paid + Payment Recovered + identify
  const deadline = Date.now() + 120_000;
  while (sink.messages.length < expected && Date.now() < deadline) await sleep(250);
  const recovered = performance.now();
  clearInterval(sampler);
  const distinct = new Set(sink.messages.map((m) => m.messageId)).size;
  const byEvent = {};
  for (const m of sink.messages) byEvent[m.event ?? m.type] = (byEvent[m.event ?? m.type] ?? 0) + 1;
  console.log(JSON.stringify({
    sequences: N,
    concurrency: CONCURRENCY,
    open_acked_s: +((acked - t0) / 1000).toFixed(1),
    open_all_running_s: +((opened - t0) / 1000).toFixed(1),
    recover_acked_s: +((recoveryAcked - opened) / 1000).toFixed(1),
    recover_all_done_s: +((recovered - opened) / 1000).toFixed(1),
    peak_rss_mb: { app_worker_and_ingress: Math.round(peak.worker), dev_server: Math.round(peak.devServer) },
    http_retries: errors,
    segment_messages: sink.messages.length,
    segment_distinct_message_ids: distinct,
    expected_messages: expected,
    by_event: byEvent,
  }, null, 2));
  app.stop();
  await client.connection.close();
  await sink.close();
  process.exit(sink.messages.length === expected && distinct === expected ? 0 : 1);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
