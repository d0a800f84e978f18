import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, portOpen, waitUntil } from './net';

const LOCAL = path.resolve(__dirname, '..', '..', '.tools', 'bin', 'stripe-mock');

export interface StripeMock {
  url: string;
  stop(): Promise<void>;
}

/** Runs stripe-mock (installed by scripts/setup.sh) on a free local port. */
export async function startStripeMock(): Promise<StripeMock> {
  const bin = process.env.STRIPE_MOCK_PATH ?? LOCAL;
  if (!existsSync(bin)) throw new Error(`stripe-mock not found at ${bin}: run \`npm run setup\` (needs Go) or set STRIPE_MOCK_PATH.`);
  const [http, https] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(bin, ['-http-port', String(http), '-https-port', String(https)], { stdio: 'ignore' });
  await waitUntil(() => portOpen(http), 20_000, 'stripe-mock to listen');
  return {
    url: `http://127.0.0.1:${http}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
