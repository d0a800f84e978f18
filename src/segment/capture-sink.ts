import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** One message as Segment's batch API receives it. */
export interface CapturedMessage {
  type: string;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  event?: string;
  traits?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  timestamp?: string;
  context?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface CapturedRequest {
  at: number;
  /** Write key from the Basic auth header. */
  writeKey: string | undefined;
  status: number;
  messages: CapturedMessage[];
}

export interface SinkResponse {
  status: number;
  headers?: Record<string, string>;
}

export interface CaptureSinkOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  /** Decide the answer to one batch request (fault injection in tests); default 200. */
  respond?: (messages: CapturedMessage[], request: http.IncomingMessage) => SinkResponse | undefined;
}

export interface CaptureSink {
  url: string;
  /** Messages of the requests answered 2xx, in arrival order. */
  readonly messages: CapturedMessage[];
  /** Every batch request, whatever the answer. */
  readonly requests: CapturedRequest[];
  /** Resolves once `n` accepted messages have arrived (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<CapturedMessage[]>;
  close(): Promise<void>;
}

function writeKeyOf(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Basic ')) return undefined;
  return Buffer.from(auth.slice(6), 'base64').toString('utf8').replace(/:$/, '');
}

/**
 * A local stand-in for Segment's HTTP tracking API (`POST /v1/batch`). `npm start` runs it when no
 * SEGMENT_WRITE_KEY is set and logs every call it receives; tests use it to see what Segment got.
 * `GET /messages` lists what was captured.
 */
export function startCaptureSink(opts: CaptureSinkOptions = {}): Promise<CaptureSink> {
  const messages: CapturedMessage[] = [];
  const requests: CapturedRequest[] = [];
  const waiters = new Set<() => void>();

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/messages') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(messages, null, 2));
      return;
    }
    if (req.method !== 'POST' || !/^\/v1\/(batch|import)\/?$/.test(req.url ?? '')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let batch: CapturedMessage[];
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batch?: CapturedMessage[] };
        if (!Array.isArray(body.batch)) throw new Error('no batch array');
        batch = body.batch;
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad_request', reason: (err as Error).message }));
        return;
      }
      const answer = opts.respond?.(batch, req) ?? { status: 200 };
      requests.push({ at: Date.now(), writeKey: writeKeyOf(req), status: answer.status, messages: batch });
      if (answer.status >= 200 && answer.status < 300) {
        messages.push(...batch);
        for (const m of batch) {
          opts.logger?.info(
            {
              segment: {
                type: m.type,
                messageId: m.messageId,
                userId: m.userId,
                anonymousId: m.anonymousId,
                event: m.event,
                traits: m.traits,
                properties: m.properties,
              },
            },
            `segment capture sink: ${m.type}${m.event ? ` "${m.event}"` : ''} ${m.userId ?? m.anonymousId ?? ''}`,
          );
        }
        for (const w of waiters) w();
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.status < 300 ? { success: true } : { error: `status ${answer.status}` }));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
      resolve({
        url: `http://${host}:${port}`,
        messages,
        requests,
        waitFor(n, timeoutMs = 30_000) {
          if (messages.length >= n) return Promise.resolve(messages.slice());
          return new Promise((res, rej) => {
            const check = () => {
              if (messages.length >= n) {
                waiters.delete(check);
                clearTimeout(timer);
                res(messages.slice());
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`Segment stand-in: expected ${n} messages, got ${messages.length} in ${timeoutMs} ms`));
            }, timeoutMs);
            waiters.add(check);
          });
        },
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
