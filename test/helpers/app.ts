import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitUntil } from './net';

const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'stripe-segment.js');

export interface RunningApp {
  process: ChildProcess;
  /** The environment it runs with (for CLI commands against it). */
  env: NodeJS.ProcessEnv;
  /** e.g. http://127.0.0.1:PORT */
  base: string;
  temporalPort: number;
  uiPort: number;
  dataDir: string;
  output(): string;
  exitCode(): number | null | undefined;
  /** SIGTERM, as an operator would (it stops its embedded Temporal server); SIGKILL only if it hangs. */
  stop(): Promise<void>;
}

/**
 * The compiled app as `npm start` runs it (`stripe-segment start`: embedded Temporal dev server,
 * worker, ingress) on free local ports and a fresh DATA_DIR, ready when /readyz answers 200.
 */
export async function launchApp(extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningApp> {
  try {
    return await launchOnce(extraEnv);
  } catch (err) {
    // Free ports are picked before the app binds them; the dev server's own random ports can take
    // one in between. Another set of ports then.
    if (!/is in use/.test((err as Error).message) || extraEnv.PORT) throw err;
    return launchOnce(extraEnv);
  }
}

async function launchOnce(extraEnv: NodeJS.ProcessEnv): Promise<RunningApp> {
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-e2e-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    ...extraEnv,
  };
  let output = '';
  let exited: number | null | undefined;
  const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  child.once('exit', (code) => (exited = code));
  const base = `http://127.0.0.1:${port}`;
  const app: RunningApp = {
    process: child,
    env,
    base,
    temporalPort,
    uiPort,
    dataDir,
    output: () => output,
    exitCode: () => exited,
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      await waitUntil(() => exited !== undefined, 20_000, 'the app to stop').catch(() => child.kill('SIGKILL'));
    },
  };
  try {
    await waitUntil(
      async () => {
        if (exited !== undefined) throw new Error(`the app exited with ${exited}`);
        return fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      },
      90_000,
      'the app to be ready',
    );
  } catch (err) {
    await app.stop();
    throw new Error(`${(err as Error).message}\n--- app output ---\n${output}`);
  }
  return app;
}
