import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import Stripe from 'stripe';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { catalogDocument } from '../catalog';
import { triggerForSlug } from '../catalog/triggers';
import type { RecipeSet } from '../recipes/loader';
import { livemodeAccepts, startStripeRun, stripeWorkflowId, type LivemodeFilter } from '../runs/start';
import type { StripeEvent } from '../workflows';
import { openApiDocument, type ErrorCode } from './contract';
import { createIngressMetrics, type IngressMetrics } from './metrics';

export interface IngressDeps {
  client: Client;
  taskQueue: string;
  /** The published recipes; a function so a reload takes effect on the next event. */
  recipes: () => RecipeSet;
  /** Stripe signing secrets; several during a rotation. */
  secrets: string[];
  logger: Logger;
  /** Answer 503 if Temporal has not accepted the start within this time (ms). Default 5000. */
  startTimeoutMs?: number;
  /** Stripe-Signature timestamp tolerance (s). Default 300. */
  toleranceSeconds?: number;
  /** Which events to process: test mode, live mode or both. Default both. */
  livemode?: LivemodeFilter;
  metrics?: IngressMetrics;
  /** The client shares its connection with a worker in this process: request eager starts. */
  eagerStart?: boolean;
}

export interface Ingress {
  app: express.Express;
  metrics: IngressMetrics;
  /**
   * Resolves once every Temporal call the ingress made has settled, including those it stopped
   * waiting for. Call it after the HTTP server closed and before closing the Temporal connection.
   */
  drain(): Promise<void>;
}

/** Stripe's own limit is far below this; anything larger is not a Stripe event. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Seconds a sender should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 10;

/** A refusal with its HTTP status, error code and a reason for a person. */
class Refusal {
  constructor(
    readonly status: number,
    readonly error: ErrorCode,
    readonly reason: string,
  ) {}
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Rejects after `ms` (calling `onTimeout` first) unless `promise` settles sooner. */
async function withTimeout<T>(ms: number, promise: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new TimeoutError(`no answer from Temporal within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** application/json or any +json type, with or without parameters such as charset. */
const JSON_CONTENT_TYPE = /^\s*application\/([\w.-]+\+)?json\s*(;|$)/i;
const SIGNATURE_FORMAT = /(^|,)\s*t=\d+\s*(,|$)/;
const V1_FORMAT = /(^|,)\s*v1=[0-9a-fA-F]+\s*(,|$)/;

/** Parses and authenticates the raw body. Throws a Refusal saying what is wrong. */
function verifiedEvent(raw: Buffer, header: string | undefined, secrets: string[], tolerance: number): StripeEvent {
  if (!header) throw new Refusal(400, 'missing_signature', 'The Stripe-Signature header is required.');
  if (!SIGNATURE_FORMAT.test(header) || !V1_FORMAT.test(header)) {
    throw new Refusal(400, 'malformed_signature', 'The Stripe-Signature header must look like "t=<unix time>,v1=<hex signature>".');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new Refusal(400, 'invalid_json', `The body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Refusal(400, 'invalid_json', 'The body must be a JSON object.');
  }

  const reasons: string[] = [];
  let event: StripeEvent | undefined;
  for (const secret of secrets) {
    try {
      event = Stripe.webhooks.constructEvent(raw, header, secret, tolerance) as unknown as StripeEvent;
      break;
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) {
        // The signature verified; stripe-node refuses the payload itself (a thin event).
        if ((body as { object?: unknown }).object === 'v2.core.event') {
          throw new Refusal(
            400,
            'unsupported_event',
            'Thin events (v2 event notifications, object "v2.core.event") are not supported. Send snapshot events: a webhook endpoint with v1 events.',
          );
        }
        throw new Refusal(400, 'invalid_event', String((err as Error)?.message ?? err).split('\n')[0]!);
      }
      // Stripe's messages never contain the secret; keep the first line only.
      reasons.push(err.message.split('\n')[0]!);
    }
  }
  if (!event) {
    // A secret whose signature matched but failed on the timestamp says most.
    const stale = reasons.find((r) => /tolerance/i.test(r));
    if (stale) throw new Refusal(400, 'stale_timestamp', `${stale} (tolerance ${tolerance} s).`);
    throw new Refusal(400, 'invalid_signature', reasons[0] ?? 'No webhook signing secret is configured.');
  }
  const data = event.data as { object?: unknown } | undefined;
  if (typeof event.id !== 'string' || !event.id || typeof event.type !== 'string' || typeof data?.object !== 'object' || data.object === null) {
    throw new Refusal(400, 'invalid_event', 'The body is not a Stripe event: id, type and data.object are required.');
  }
  if (typeof event.created !== 'number') {
    throw new Refusal(400, 'invalid_event', 'The body is not a Stripe event: created must be a Unix time.');
  }
  return event;
}

/** Maps body-parser errors to the contract's codes. */
function parserRefusal(err: { status?: number; type?: string; message?: string }): Refusal {
  switch (err.status) {
    case 413:
      return new Refusal(413, 'payload_too_large', `The body is larger than ${BODY_LIMIT_BYTES} bytes.`);
    case 415:
      return new Refusal(415, 'unsupported_media_type', err.message ?? 'Unsupported body encoding.');
    case 400:
      return new Refusal(400, 'invalid_json', err.message ?? 'The body could not be read.');
    default:
      return new Refusal(500, 'internal', 'Internal error.');
  }
}

export function createIngress(deps: IngressDeps): Ingress {
  const { client, logger } = deps;
  const startTimeoutMs = deps.startTimeoutMs ?? 5000;
  const tolerance = deps.toleranceSeconds ?? 300;
  const livemode = deps.livemode ?? 'both';
  const metrics = deps.metrics ?? createIngressMetrics();
  const openapi = openApiDocument();
  const inflight = new Set<Promise<unknown>>();

  /**
   * Calls Temporal bounded by both a gRPC deadline and a timer (a reconnecting channel can
   * overrun the deadline); on timeout the call is aborted. A start that still lands after we
   * answered 503 is harmless: Stripe's retry is then a duplicate.
   */
  const temporalCall = <T>(ms: number, fn: () => Promise<T>): Promise<T> => {
    const abort = new AbortController();
    const call = client.withAbortSignal(abort.signal, () => client.withDeadline(Date.now() + ms, fn));
    inflight.add(call);
    const forget = () => inflight.delete(call);
    call.then(forget, forget);
    return withTimeout(ms, call, () => abort.abort());
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // One structured line per request, with its outcome; never headers or bodies.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = (req.header('x-request-id') ?? randomUUID()).replace(/[^\w.-]/g, '').slice(0, 64) || randomUUID();
    res.locals.requestId = requestId;
    res.locals.started = started;
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (res.locals.route as string | undefined) ?? 'other';
      const outcome = (res.locals.outcome as string | undefined) ?? String(res.statusCode);
      metrics.requests.inc({ route, status: String(res.statusCode), outcome });
      const line = {
        requestId,
        method: req.method,
        path: req.path.slice(0, 200),
        status: res.statusCode,
        outcome,
        ms: Math.round(ms * 10) / 10,
        ...(res.locals.stripeEventId ? { stripeEventId: res.locals.stripeEventId, stripeEventType: res.locals.stripeEventType } : {}),
      };
      if (res.statusCode >= 500) logger.error(line, 'request failed');
      else if (res.statusCode >= 400 && route !== 'other') logger.warn(line, 'request refused');
      else logger.info(line, 'request');
    });
    next();
  });

  const refuse = (res: Response, r: Refusal) => {
    res.locals.outcome = r.error;
    if (r.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(r.status).json({ error: r.error, reason: r.reason });
  };
  const answer = (res: Response, outcome: string, body: object) => {
    res.locals.outcome = outcome;
    metrics.ackSeconds.observe({ route: res.locals.route as string }, Number(process.hrtime.bigint() - (res.locals.started as bigint)) / 1e9);
    res.status(200).json(body);
  };
  const methodNotAllowed = (allow: string) => (_req: Request, res: Response) => {
    res.setHeader('Allow', allow);
    refuse(res, new Refusal(405, 'method_not_allowed', `Use ${allow}.`));
  };

  const jsonOnly = (req: Request, res: Response, next: NextFunction) => {
    if (!JSON_CONTENT_TYPE.test(req.header('content-type') ?? '')) {
      return refuse(
        res,
        new Refusal(415, 'unsupported_media_type', `Content-Type must be application/json (got ${JSON.stringify(req.header('content-type') ?? 'none')}).`),
      );
    }
    next();
  };
  const rawBody = express.raw({ type: () => true, limit: BODY_LIMIT_BYTES });

  /** The webhook handler; `slugged` routes accept only their trigger's event type. */
  const webhook = (slugged: boolean) => async (req: Request, res: Response) => {
    const log = logger.child({ requestId: res.locals.requestId as string });
    const published = deps.recipes();
    try {
      let expectedType: string | undefined;
      if (slugged) {
        const slug = String(req.params.slug ?? '');
        expectedType = triggerForSlug(slug, published.triggers);
        if (!expectedType) throw new Refusal(404, 'not_found', `No trigger has the slug "${slug.slice(0, 100)}".`);
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const event = verifiedEvent(raw, req.header('stripe-signature'), deps.secrets, tolerance);
      res.locals.stripeEventId = event.id;
      res.locals.stripeEventType = event.type;
      if (expectedType && event.type !== expectedType) {
        throw new Refusal(400, 'wrong_trigger', `This endpoint accepts only ${expectedType} events (got ${event.type}).`);
      }
      if (!livemodeAccepts(livemode, event)) {
        return answer(res, 'ignored_livemode', { ignored: 'livemode' });
      }
      const recipes = published.forEventType(event.type);
      if (recipes.length === 0) return answer(res, 'ignored_no_recipe', { ignored: 'no recipe' });

      let started: { workflowId: string; duplicate: boolean };
      try {
        started = await temporalCall(startTimeoutMs, () => startStripeRun(client, { event, recipes, taskQueue: deps.taskQueue, via: 'webhook', eager: deps.eagerStart }));
      } catch (err) {
        const workflowId = stripeWorkflowId(event.id);
        log.error({ err: (err as Error).message, workflowId, stripeEventId: event.id }, 'could not start workflow; asking the sender to retry');
        throw new Refusal(503, 'temporal_unavailable', 'The event could not be recorded durably; retry later.');
      }
      const { workflowId } = started;
      if (started.duplicate) {
        metrics.duplicates.inc({ event_type: event.type });
        return answer(res, 'duplicate', { received: true, duplicate: true, workflowId });
      }
      metrics.workflowStarts.inc({ event_type: event.type });
      return answer(res, 'started', { received: true, duplicate: false, workflowId });
    } catch (err) {
      if (err instanceof Refusal) return refuse(res, err);
      throw err;
    }
  };

  const route = (name: string) => (_req: Request, res: Response, next: NextFunction) => {
    res.locals.route = name;
    next();
  };

  app.post('/v1/webhooks/stripe', route('stripe'), jsonOnly, rawBody, webhook(false));
  app.all('/v1/webhooks/stripe', route('stripe'), methodNotAllowed('POST'));
  app.post('/v1/webhooks/stripe.trigger-:slug', route('stripe.trigger'), jsonOnly, rawBody, webhook(true));
  app.all('/v1/webhooks/stripe.trigger-:slug', route('stripe.trigger'), methodNotAllowed('POST'));

  app.get('/healthz', route('healthz'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', route('readyz'), async (_req, res) => {
    try {
      await temporalCall(2000, () => client.connection.workflowService.getSystemInfo({}));
    } catch (err) {
      return refuse(res, new Refusal(503, 'not_ready', `Temporal is not reachable: ${(err as Error).message}`));
    }
    res.json({ ok: true, temporal: 'reachable', recipes: deps.recipes().recipes.length });
  });
  app.get('/metrics', route('metrics'), async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', route('openapi'), (_req, res) => {
    res.json(openapi);
  });
  app.get('/v1/catalog', route('catalog'), (_req, res) => {
    res.json(catalogDocument(deps.recipes()));
  });
  for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/v1/catalog']) app.all(path, methodNotAllowed('GET, HEAD'));

  app.use((req: Request, res: Response) => {
    refuse(res, new Refusal(404, 'not_found', `No route for ${req.method} ${req.path.slice(0, 200)}.`));
  });

  // Body-reading errors (too large, bad encoding, aborted) and anything unexpected: JSON, no stack.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const refusal = parserRefusal(err);
    if (refusal.status >= 500) logger.error({ err: err.message, requestId: res.locals.requestId }, 'unexpected ingress error');
    if (!res.headersSent) refuse(res, refusal);
  });

  return {
    app,
    metrics,
    async drain() {
      await Promise.allSettled([...inflight]);
    },
  };
}
