import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedReply {
  status?: number;
  headers?: Record<string, string>;
  /** The assistant message content (a JSON string for a good reply). */
  content?: string;
  /** Wait this long before answering (to make the client time out). */
  delayMs?: number;
}

export interface SeenRequest {
  at: number;
  model: string;
  body: any;
  /** What the request got wrong, per the checks below; empty when it is as expected. */
  problems: string[];
}

export interface OpenAIStandIn {
  /** Base URL for OPENAI_BASE_URL, e.g. http://127.0.0.1:1234/v1 */
  url: string;
  requests: SeenRequest[];
  /** Replies given in order; when empty, `fallback` answers. */
  replies: CannedReply[];
  fallback: CannedReply;
  close(): Promise<void>;
}

/**
 * A local OpenAI-compatible server (POST /v1/chat/completions). It checks each request: a model,
 * the API key, `response_format` with a JSON schema, and a user message that carries only the
 * allowed input fields. It answers canned completions.
 */
export async function startOpenAIStandIn(opts: { apiKey?: string; allowedInputKeys?: string[]; fallback?: CannedReply } = {}): Promise<OpenAIStandIn> {
  const requests: SeenRequest[] = [];
  const replies: CannedReply[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const state = { fallback: opts.fallback ?? { content: '{}' } };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: any = {};
      const problems: string[] = [];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        problems.push('body is not JSON');
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') problems.push(`unexpected ${req.method} ${req.url}`);
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) problems.push('wrong or missing API key');
      if (typeof body.model !== 'string' || !body.model) problems.push('no model');
      if (body.response_format?.type !== 'json_schema' || typeof body.response_format?.json_schema?.schema !== 'object') {
        problems.push('response_format is not a JSON schema');
      }
      const user = (body.messages ?? []).find((m: any) => m.role === 'user');
      try {
        const input = JSON.parse(user?.content ?? 'null');
        if (opts.allowedInputKeys) {
          const extra = Object.keys(input ?? {}).filter((k) => !opts.allowedInputKeys!.includes(k));
          if (extra.length) problems.push(`input carries fields beyond the chosen ones: ${extra.join(', ')}`);
        }
      } catch {
        problems.push('the user message is not JSON');
      }
      requests.push({ at: Date.now(), model: body.model, body, problems });

      const reply = replies.shift() ?? state.fallback;
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      const status = reply.status ?? 200;
      res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
      if (status !== 200) {
        res.end(JSON.stringify({ error: { message: `stand-in error ${status}`, type: 'invalid_request_error', code: null } }));
        return;
      }
      res.end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: `${body.model}-standin`,
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content ?? '{}', refusal: null }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 120, completion_tokens: 12, total_tokens: 132 },
        }),
      );
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    replies,
    get fallback() {
      return state.fallback;
    },
    set fallback(v: CannedReply) {
      state.fallback = v;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
