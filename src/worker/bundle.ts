import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const BUNDLE_FILE = 'workflow-bundle.js';
export const STAMP_FILE = 'workflow-bundle.json';

/** The SDK packages webpack puts into the bundle next to the project's workflow code. */
const BUNDLED_PACKAGES = ['@temporalio/workflow', '@temporalio/common', '@temporalio/proto'];

/** The installed version of each bundled SDK package: an SDK upgrade makes the bundle stale too. */
export function bundledVersions(): Record<string, string> {
  return Object.fromEntries(
    BUNDLED_PACKAGES.map((name) => [name, (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version]),
  );
}

/**
 * A hash of every compiled .js file under dist (the bundle itself excluded), in a stable order,
 * and of the versions of the SDK packages bundled with them.
 */
export function distHash(dist: string, versions: Record<string, string> = bundledVersions()): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(Object.entries(versions).sort(([a], [b]) => a.localeCompare(b))));
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js') && entry.name !== BUNDLE_FILE) hash.update(path.relative(dist, file)).update(readFileSync(file));
    }
  };
  walk(dist);
  return hash.digest('hex');
}

/**
 * The pre-built workflow bundle (scripts/bundle-workflows.js) when this is compiled code and the
 * bundle was built from exactly this code; otherwise undefined, and the worker bundles at start.
 */
export function prebuiltBundle(dist = path.resolve(__dirname, '..'), compiled = __filename.endsWith('.js')): string | undefined {
  const bundle = path.join(dist, BUNDLE_FILE);
  const stamp = path.join(dist, STAMP_FILE);
  if (!compiled || !existsSync(bundle) || !existsSync(stamp)) return undefined;
  try {
    return (JSON.parse(readFileSync(stamp, 'utf8')) as { hash?: string }).hash === distHash(dist) ? bundle : undefined;
  } catch {
    return undefined;
  }
}
