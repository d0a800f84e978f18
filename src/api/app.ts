import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import Stripe from 'stripe';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RecipeSet } from '../recipes/loader';
import { SA } from '../temporal/search-attributes';
import type { StripeEvent } from '../workflows';
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
  let reason = 'no webhook secret configured';
  for (const secret of secrets) {
    try {
      return { event: Stripe.webhooks.constructEvent(raw, header, secret, tolerance) as unknown as StripeEvent };
    } catch (err) {
      // Stripe's messages never contain the secret; keep the first line only.
      reason = ((err as Error).message ?? String(err)).split('\n')[0]!;
    }
  }
  return { reason };
}

function customerOf(event: StripeEvent): string | undefined {
  const obj = event.data.object;
  if (typeof obj.customer === 'string') return obj.customer;
  if (obj.object === 'customer' && typeof obj.id === 'string') return obj.id;
  return undefined;
}

export function createApp(deps: IngressDeps) {
  const { client, logger } = deps;
  const startTimeoutMs = deps.startTimeoutMs ?? 5000;
  const tolerance = deps.toleranceSeconds ?? 300;
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await client.withDeadline(Date.now() + 2000, () => client.connection.workflowService.getSystemInfo({}));
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
    const customer = customerOf(event);
    try {
      await client.withDeadline(Date.now() + startTimeoutMs, () =>
        client.workflow.start(stripeEventWorkflow, {
          taskQueue: deps.taskQueue,
          workflowId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [{ event, recipes }],
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
        }),
      );
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

  return app;
}
