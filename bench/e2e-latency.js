#!/usr/bin/env node
'use strict';
// Latency of one event at a time, webhook POST → Segment, through the real app (`stripe-segment start`
// with its embedded Temporal dev server) and a local Segment stand-in. Run `npm run build` first.
//   node bench/e2e-latency.js [events=30]
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const Stripe = require('stripe');
const { startCaptureSink } = require('../dist/segment/capture-sink');
const { buildTestEvent } = require('../dist/catalog/fixtures');

const N = Number(process.argv[2] ?? 30);
const WARMUP = 5;
const ROOT = path.resolve(__dirname, '..');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

(async () => {
  const arrivals = new Map(); // stripe event id → arrival time (ms, performance clock)
  const sink = await startCaptureSink({
    respond: (batch) => {
      const now = performance.now();
      for (const m of batch) arrivals.set(m.context?.stripe?.event_id, now);
      return undefined;
    },
  });
  const [port, tport, uport] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-bench-'));
  const t0 = performance.now();
  const app = spawn(process.execPath, [path.join(ROOT, 'bin/stripe-segment.js'), 'start'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, TEMPORAL_DEV_PORT: String(tport), TEMPORAL_UI_PORT: String(uport), SEGMENT_WRITE_KEY: 'bench', SEGMENT_HOST: sink.url, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) await sleep(50);
  const startupMs = performance.now() - t0;
  const secret = readFileSync(path.join(dataDir, 'stripe-webhook-secret'), 'utf8').trim();

  const ack = [];
  const e2e = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const event = buildTestEvent('charge.failed', { customer: `cus_bench_${i}` });
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const start = performance.now();
    const res = await fetch(`${base}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
    const acked = performance.now();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    while (!arrivals.has(event.id)) await sleep(1);
    if (i >= WARMUP) {
      ack.push(acked - start);
      e2e.push(arrivals.get(event.id) - start);
    }
  }
  app.kill('SIGTERM');
  await sink.close();
  const row = (name, xs) => `| ${name} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 95).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  console.log(`startup to ready (app + embedded dev server + worker bundle): ${(startupMs / 1000).toFixed(1)} s`);
  console.log(`${N} sequential charge.failed events (after ${WARMUP} warm-up), ms:`);
  console.log('| measure | p50 | p95 | max |\n| --- | --- | --- | --- |');
  console.log(row('ack (POST → 200)', ack));
  console.log(row('POST → Segment arrival', e2e));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
