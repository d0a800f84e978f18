import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import Stripe from 'stripe';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RecipeSet } from '../recipes/loader';
import { SA } from '../temporal/search-attributes';
import type { RecipeSnapshot } from '../recipes/types';
import type { StripeEvent, StripeEventWorkflowInput } from '../workflows';
import { stripeEventWorkflow } from '../workflows';

export interface IngressDeps {
  client: Client;
  taskQueue: string;
  /** The published recipes; a function so a reload takes effect on the next event. */
  recipes: () => RecipeSet;
  /** Stripe signing secrets; several during a rotation. */
  secrets: string[];
  logger: Logger;
  /** Answer 503 if Temporal has not accepted the start within this time (ms). */
  startTimeoutMs?: number;
  /** Stripe-Signature timestamp tolerance (s). */
  toleranceSeconds?: number;
}

/** Seconds Stripe (or any sender) should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 10;

export const stripeWorkflowId = (eventId: string) => `stripe/${eventId}`;

function sendError(res: Response, status: number, error: string, reason: string) {
  res.status(status).json({ error, reason });
}

/** Verifies the raw body against each secret in turn; returns the event or the reason it failed. */
function verify(raw: Buffer, header: string, secrets: string[], tolerance: number): { event: StripeEvent } | { reason: string } {
  const reasons: string[] = [];
  for (const secret of secrets) {
    try {
      return { event: Stripe.webhooks.constructEvent(raw, header, secret, tolerance) as unknown as StripeEvent };
    } catch (err) {
      // Stripe's messages never contain the secret; keep the first line only.
      reasons.push(((err as Error).message ?? String(err)).split('\n')[0]!);
    }
  }
  // A secret whose signature matched but failed for another reason (a stale timestamp) says most.
  const reason = reasons.find((r) => !r.startsWith('No signatures found')) ?? reasons[0];
  return { reason: reason ?? 'no webhook secret configured' };
}

function customerOf(event: StripeEvent): string | undefined {
  const obj = event.data.object;
  if (typeof obj.customer === 'string') return obj.customer;
  if (obj.object === 'customer' && typeof obj.id === 'string') return obj.id;
  return undefined;
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

/** Start options of one run: the id rule, the recipe snapshot, and what the Web UI shows. */
function startOptions(event: StripeEvent, recipes: RecipeSnapshot[], taskQueue: string) {
  const customer = customerOf(event);
  return {
    taskQueue,
    workflowId: stripeWorkflowId(event.id),
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    args: [{ event, recipes }] as [StripeEventWorkflowInput],
    typedSearchAttributes: [
      { key: SA.eventType, value: event.type },
      { key: SA.recipeIds, value: recipes.map((r) => r.id) },
      ...(typeof event.livemode === 'boolean' ? [{ key: SA.livemode, value: event.livemode }] : []),
      ...(customer ? [{ key: SA.customerId, value: customer }] : []),
    ],
    staticSummary: `${event.type} · ${customer ?? String(event.data.object.id ?? '')} → ${recipes.length} recipe${recipes.length === 1 ? '' : 's'}`,
    staticDetails: recipes.map((r) => `${r.id}@${r.version}`).join('\n'),
    memo: {
      apiVersion: event.api_version ?? null,
      recipes: recipes.map((r) => ({ id: r.id, version: r.version })),
    },
  };
}

export interface Ingress {
  app: express.Express;
  /**
   * Resolves once every Temporal call the ingress made has settled, including those it stopped
   * waiting for. Call it after the HTTP server closed and before closing the Temporal connection.
   */
  drain(): Promise<void>;
}

export function createIngress(deps: IngressDeps): Ingress {
  const { client, logger } = deps;
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
  const startTimeoutMs = deps.startTimeoutMs ?? 5000;
  const tolerance = deps.toleranceSeconds ?? 300;
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await temporalCall(2000, () => client.connection.workflowService.getSystemInfo({}));
      res.json({ ok: true, temporal: 'reachable', recipes: deps.recipes().recipes.length });
    } catch (err) {
      res.status(503).json({ ok: false, error: 'temporal_unreachable', reason: (err as Error).message });
    }
  });

  app.post('/v1/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const requestId = (req.header('x-request-id') ?? randomUUID()).slice(0, 100);
    const log = logger.child({ requestId });
    res.setHeader('x-request-id', requestId);

    const header = req.header('stripe-signature');
    if (!header) return sendError(res, 400, 'missing_signature', 'The Stripe-Signature header is required.');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = verify(raw, header, deps.secrets, tolerance);
    if ('reason' in verified) {
      log.warn({ reason: verified.reason }, 'stripe webhook rejected: bad signature');
      return sendError(res, 400, 'invalid_signature', verified.reason);
    }
    const event = verified.event;
    if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.data?.object !== 'object') {
      return sendError(res, 400, 'invalid_event', 'The body is not a Stripe event (id, type and data.object are required).');
    }
    const elog = log.child({ stripeEventId: event.id, stripeEventType: event.type });

    const recipes = deps.recipes().forEventType(event.type);
    if (recipes.length === 0) {
      elog.info('no published recipe for this event type; ignored');
      return res.status(200).json({ ignored: 'no recipe' });
    }

    const workflowId = stripeWorkflowId(event.id);
    try {
      const options = startOptions(event, recipes, deps.taskQueue);
      await temporalCall(startTimeoutMs, () => client.workflow.start(stripeEventWorkflow, options));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        elog.info({ workflowId }, 'duplicate delivery; workflow already started');
        return res.status(200).json({ received: true, duplicate: true, workflowId });
      }
      elog.error({ err: (err as Error).message, workflowId }, 'could not start workflow; asking Stripe to retry');
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      return sendError(res, 503, 'temporal_unavailable', 'The event could not be recorded durably; retry later.');
    }
    const ackMs = Number(process.hrtime.bigint() - started) / 1e6;
    elog.info({ workflowId, ackMs: Math.round(ackMs * 10) / 10 }, 'workflow started');
    return res.status(200).json({ received: true, duplicate: false, workflowId });
  });

  // Body-parser errors (too large, aborted) still answer JSON with a reason.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) logger.error({ err: err.message }, 'unhandled ingress error');
    sendError(res, status, err.type ?? 'error', status >= 500 ? 'Internal error.' : err.message);
  });

  return {
    app,
    async drain() {
      await Promise.allSettled([...inflight]);
    },
  };
}
