#!/usr/bin/env node
'use strict';
// Pre-builds the workflow bundle (dist/workflow-bundle.js) so a worker starts without running
// webpack: faster start, less memory. dist/workflow-bundle.json records a hash of the compiled
// code it was built from; a worker uses the bundle only when that hash still matches (see
// src/worker/bundle.ts), so a stale bundle is never run. Run after `tsc` (scripts/setup.sh,
// `npm run build`, the Dockerfile). Does nothing when the bundle is up to date.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', 'dist');

(async () => {
  const { distHash, BUNDLE_FILE, STAMP_FILE } = require(path.join(DIST, 'worker', 'bundle.js'));
  const hash = distHash(DIST);
  const stamp = path.join(DIST, STAMP_FILE);
  if (existsSync(stamp) && existsSync(path.join(DIST, BUNDLE_FILE)) && JSON.parse(readFileSync(stamp, 'utf8')).hash === hash) return;
  const { bundleWorkflowCode } = require('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(DIST, 'workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
  writeFileSync(path.join(DIST, BUNDLE_FILE), code);
  writeFileSync(stamp, `${JSON.stringify({ hash, builtAt: new Date().toISOString() })}\n`);
  process.stderr.write(`setup: workflow bundle built (${Math.round(code.length / 1024)} KiB)\n`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
