import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLE_FILE, bundledVersions, distHash, prebuiltBundle, STAMP_FILE } from '../../src/worker/bundle';
import { loadConfig } from '../../src/config';
import { buildTestEvent } from '../../src/catalog/fixtures';
import { runStartOptions } from '../../src/runs/start';
import type { StripeEvent } from '../../src/workflows';

/** A dist folder with compiled files, a bundle, and a stamp of the code it was built from. */
function dist() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-dist-'));
  mkdirSync(path.join(dir, 'workflows'));
  writeFileSync(path.join(dir, 'workflows', 'index.js'), 'exports.a = 1;');
  writeFileSync(path.join(dir, BUNDLE_FILE), '/* bundle */');
  writeFileSync(path.join(dir, STAMP_FILE), JSON.stringify({ hash: distHash(dir) }));
  return dir;
}

describe('the pre-built workflow bundle', () => {
  it('is used when it was built from exactly this code', () => {
    const dir = dist();
    expect(prebuiltBundle(dir, true)).toBe(path.join(dir, BUNDLE_FILE));
  });

  it('is ignored once the code changed, when missing, and when running from sources', () => {
    const changed = dist();
    writeFileSync(path.join(changed, 'workflows', 'index.js'), 'exports.a = 2;');
    expect(prebuiltBundle(changed, true)).toBeUndefined();
    const added = dist();
    writeFileSync(path.join(added, 'workflows', 'extra.js'), '');
    expect(prebuiltBundle(added, true)).toBeUndefined();
    expect(prebuiltBundle(mkdtempSync(path.join(os.tmpdir(), 'ss-empty-')), true)).toBeUndefined();
    expect(prebuiltBundle(dist(), false)).toBeUndefined();
  });

  it('is stale after an upgrade of the SDK packages bundled with the code', () => {
    const dir = dist();
    const installed = bundledVersions();
    expect(installed['@temporalio/workflow']).toMatch(/^\d+\.\d+\.\d+/);
    expect(distHash(dir, installed)).toBe(distHash(dir));
    expect(distHash(dir, { ...installed, '@temporalio/workflow': '0.0.1' })).not.toBe(distHash(dir));
  });

  it('the bundle itself does not count in the hash', () => {
    const dir = dist();
    writeFileSync(path.join(dir, BUNDLE_FILE), '/* rebuilt */');
    expect(prebuiltBundle(dir, true)).toBe(path.join(dir, BUNDLE_FILE));
  });
});

describe('worker and start settings', () => {
  it('reads capacity, bundle and eager-start settings, and refuses a tuner mixed with fixed slots', () => {
    const c = loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2', TEMPORAL_EAGER_START: 'true', TEMPORAL_WORKFLOW_BUNDLE: 'build' });
    expect(c.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS).toBe(2);
    expect(c.TEMPORAL_EAGER_START).toBe(true);
    expect(c.TEMPORAL_WORKFLOW_BUNDLE).toBe('build');
    const d = loadConfig({});
    expect([d.TEMPORAL_EAGER_START, d.TEMPORAL_WORKFLOW_BUNDLE, d.TEMPORAL_WORKER_TARGET_CPU]).toEqual([false, 'prebuilt', undefined]);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow('must be at least 2');
    expect(() => loadConfig({ TEMPORAL_WORKER_TARGET_CPU: '0.6', TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: '10' })).toThrow('TEMPORAL_WORKER_TARGET_CPU: a resource-based tuner sizes the slots itself');
    expect(() => loadConfig({ TEMPORAL_WORKER_TARGET_CPU: '2' })).toThrow('TEMPORAL_WORKER_TARGET_CPU: must be between 0.1 and 1');
  });

  it('requests an eager start only when asked', () => {
    const event = buildTestEvent('charge.failed') as unknown as StripeEvent;
    expect(runStartOptions({ event, recipes: [], taskQueue: 'q', via: 'webhook', eager: true }).requestEagerStart).toBe(true);
    expect('requestEagerStart' in runStartOptions({ event, recipes: [], taskQueue: 'q', via: 'webhook' })).toBe(false);
  });
});
