'use strict';
// Shared by the benchmarks: ports, timing helpers, and the real app started as `npm start` runs it.
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The p-th percentile (nearest rank). */
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** `stripe-segment start` on free ports and a fresh DATA_DIR; resolves once /readyz answers 200. */
async function launchApp(extraEnv) {
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/stripe-segment.js'), 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) await sleep(50);
  return {
    child,
    base,
    temporalPort,
    startupMs: performance.now() - started,
    secret: readFileSync(path.join(dataDir, 'stripe-webhook-secret'), 'utf8').trim(),
    stop: () => child.kill('SIGTERM'),
  };
}

module.exports = { ROOT, freePort, sleep, pct, launchApp };
