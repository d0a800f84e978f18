import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { findTemporalCli } from './binaries';

export interface DevServerOptions {
  cliPath?: string;
  dataDir: string;
  namespace: string;
  port: number;
  uiPort: number;
  /** Bind address of gRPC and the Web UI. */
  ip?: string;
  logger?: Logger;
  /** How long to wait for the server to answer (ms). */
  startTimeoutMs?: number;
  /** SQLite pragmas, e.g. ["journal_mode=wal", "synchronous=full"]. */
  sqlitePragmas?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string;
  dbFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with a persistent SQLite file in DATA_DIR and the Web UI,
 * and resolves once its frontend answers. The server is stopped with the returned `stop()`.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const cli = findTemporalCli(opts.cliPath);
  mkdirSync(opts.dataDir, { recursive: true });
  const dbFile = path.join(opts.dataDir, 'temporal.sqlite');
  const pidFile = path.join(opts.dataDir, 'temporal-dev-server.pid');
  await stopOrphan(pidFile, dbFile, opts.logger);
  const ip = opts.ip ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    ip,
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--ui-disable-news-fetch',
    '--log-level',
    'warn',
    ...(opts.sqlitePragmas ?? []).flatMap((p) => ['--sqlite-pragma', p]),
    ...(opts.namespace === 'default' ? [] : ['--namespace', opts.namespace]),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  const address = `${ip}:${opts.port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const ready = (async () => {
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `temporal server start-dev exited (code ${exited.code}, signal ${exited.signal}) before it was ready. ` +
            `Is port ${opts.port} or ${opts.uiPort} in use, or is another server using ${dbFile}?\n${output.trim()}`,
        );
      }
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: opts.namespace });
          return;
        } finally {
          await connection.close();
        }
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error(`temporal server start-dev did not answer on ${address} in time.\n${output.trim()}`);
  })();

  try {
    await Promise.race([ready, spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  writeFileSync(pidFile, `${child.pid}\n`);
  opts.logger?.info({ address, dbFile, pid: child.pid }, 'embedded Temporal dev server ready');

  return {
    address,
    uiUrl: `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${opts.uiPort}`,
    dbFile,
    process: child,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A dev server left running on this DATA_DIR by a run that died without stopping it (SIGKILL, a
 * crash) holds the port and the database: stop it before starting a new one.
 */
async function stopOrphan(pidFile: string, dbFile: string, logger?: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Not running (or no /proc): nothing to stop.
  }
  if (pid > 0 && alive(pid) && cmdline.includes('start-dev') && cmdline.includes(dbFile)) {
    logger?.warn({ pid, dbFile }, 'stopping a Temporal dev server left running by an earlier run');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}
