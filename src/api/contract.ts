import { z } from 'zod';
import { VERSION } from '../version';

/**
 * The ingress's HTTP contract: the response bodies as zod schemas (used by the handlers' types)
 * and the OpenAPI 3.1 document built from them, served at GET /openapi.json.
 */

export const errorCodes = [
  'missing_signature',
  'malformed_signature',
  'invalid_signature',
  'stale_timestamp',
  'invalid_json',
  'invalid_event',
  'unsupported_event',
  'wrong_trigger',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'temporal_unavailable',
  'not_ready',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const ErrorBody = z
  .object({
    error: z.enum(errorCodes),
    reason: z.string().min(1).describe('What was wrong, for a person. Never a secret or a stack.'),
  })
  .strict();

export const Accepted = z
  .object({
    received: z.literal(true),
    duplicate: z.boolean().describe('true when a workflow for this event already existed (a repeated delivery)'),
    workflowId: z.string().regex(/^stripe\//),
  })
  .strict();

export const Ignored = z
  .object({ ignored: z.enum(['no recipe', 'livemode']).describe('acknowledged, and deliberately not processed') })
  .strict();

export const Health = z.object({ ok: z.literal(true) }).strict();
export const Ready = z.object({ ok: z.literal(true), temporal: z.literal('reachable'), recipes: z.number().int().min(0) }).strict();

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: z.toJSONSchema(schema) } },
});
const error = (description: string) => json(ErrorBody, description);
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

function webhookResponses(perTrigger: boolean) {
  return {
    '200': json(z.union([Accepted, Ignored]), 'The run was durably started (or already existed), or the event is deliberately ignored.'),
    '400': error(
      'Missing or malformed Stripe-Signature, a signature that matches no secret, a stale timestamp, a body that is not JSON or not a Stripe event, a thin (v2) event' +
        (perTrigger ? ', or an event of another type than this trigger.' : '.'),
    ),
    ...(perTrigger ? { '404': error('No trigger has this slug.') } : {}),
    '405': error('Only POST is allowed.'),
    '413': error('The body is larger than 1 MiB.'),
    '415': error('The Content-Type is not JSON.'),
    '500': error('An unexpected error; the event was not recorded and Stripe will retry.'),
    '503': { ...error('Temporal did not durably accept the start in time; retry later.'), headers: retryAfter },
  };
}

const stripeBody = {
  required: true,
  content: { 'application/json': { schema: { type: 'object', description: 'A Stripe event, exactly as Stripe sent it (the signature covers the raw bytes).' } } },
};
const signatureHeader = {
  name: 'Stripe-Signature',
  in: 'header',
  required: true,
  schema: { type: 'string', example: 't=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd' },
};

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'stripe-segment ingress',
      version: VERSION,
      description: 'Receives Stripe webhooks and starts one durable Temporal workflow per event.',
    },
    paths: {
      '/v1/webhooks/stripe': {
        post: {
          operationId: 'stripeWebhook',
          summary: 'Every Stripe event',
          parameters: [signatureHeader],
          requestBody: stripeBody,
          responses: webhookResponses(false),
        },
      },
      '/v1/webhooks/stripe.trigger-{slug}': {
        post: {
          operationId: 'stripeTriggerWebhook',
          summary: 'One trigger only, e.g. stripe.trigger-charge-failed',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string', example: 'charge-failed' } }, signatureHeader],
          requestBody: stripeBody,
          responses: webhookResponses(true),
        },
      },
      '/healthz': {
        get: { operationId: 'health', summary: 'Liveness', responses: { '200': json(Health, 'The process is up.') } },
      },
      '/readyz': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: Temporal reachable and recipes loaded',
          responses: { '200': json(Ready, 'Ready to accept events.'), '503': error('Temporal is not reachable.') },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/catalog': {
        get: {
          operationId: 'catalog',
          summary: 'Triggers, actions and published recipes',
          responses: {
            '200': json(
              z.looseObject({ triggers: z.array(z.looseObject({ type: z.string(), slug: z.string(), title: z.string() })), actions: z.array(z.looseObject({ type: z.string() })), recipes: z.array(z.looseObject({ id: z.string(), trigger: z.string(), version: z.string() })) }),
              'The catalog.',
            ),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
  };
}
