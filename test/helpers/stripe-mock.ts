import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, portOpen, waitUntil } from './net';

const TOOLS = path.resolve(__dirname, '..', '..', '.tools');
const LOCAL = path.join(TOOLS, 'bin', 'stripe-mock');
/** stripe-mock's own bundled fixtures, copied by scripts/setup.sh. */
const FIXTURES = path.join(TOOLS, 'stripe-mock', 'fixtures3.json');

export interface StripeMock {
  url: string;
  /** Every request it got, as `METHOD /path?query`, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/** stripe-mock answers each resource from its fixture: a patch replaces some of them. */
export type FixturePatch = (resources: Record<string, Record<string, unknown>>) => void;

/**
 * Runs stripe-mock (installed by scripts/setup.sh) on a free local port, behind a pass-through
 * proxy that records each request (stripe-mock is stateless; the record shows what was called).
 */
export async function startStripeMock(patch?: FixturePatch): Promise<StripeMock> {
  const bin = process.env.STRIPE_MOCK_PATH ?? LOCAL;
  if (!existsSync(bin)) throw new Error(`stripe-mock not found at ${bin}: run \`npm run setup\` (needs Go) or set STRIPE_MOCK_PATH.`);
  const args: string[] = [];
  if (patch) {
    if (!existsSync(FIXTURES)) throw new Error(`stripe-mock fixtures not found at ${FIXTURES}: run \`npm run setup\` (needs Go).`);
    const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8')) as { resources: Record<string, Record<string, unknown>> };
    patch(fixtures.resources);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'stripe-mock-')), 'fixtures.json');
    writeFileSync(file, JSON.stringify(fixtures));
    args.push('-fixtures', file);
  }
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(bin, ['-http-port', String(httpPort), '-https-port', String(httpsPort), ...args], { stdio: 'ignore' });
  await waitUntil(() => portOpen(httpPort), 20_000, 'stripe-mock to listen');

  const requests: string[] = [];
  const proxy = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = http.request({ host: '127.0.0.1', port: httpPort, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
