import type { Analytics } from '@segment/analytics-node';
import { ApplicationFailure } from '@temporalio/common';
import { v5 as uuidv5 } from 'uuid';
import { MAX_MESSAGE_BYTES, actionFor, isSegmentCall, type ActionInfo, type SegmentCall } from '../catalog/actions';
import { DeliveryTracker } from '../segment/delivery';

/** Namespace of the deterministic Segment messageIds (UUIDv5). Never change it: Segment dedups on messageId. */
export const MESSAGE_ID_NAMESPACE = '6f1c3f5e-3b7e-4c55-9d0b-5a2f4f1f8c1d';

/** `${stripeEventId}/${recipeId}/${stepIndex}` → the same messageId on every retry and replay. */
export function messageIdFor(seed: string): string {
  return uuidv5(seed, MESSAGE_ID_NAMESPACE);
}

/** Where an action runs: the same for every action activity. */
export interface ActionMeta {
  /** `${event.id}/${recipe.id}/${stepIndex}`: the seed of idempotency keys and messageIds. */
  idempotencySeed: string;
  /** ISO time of the Stripe event (`created`). */
  timestamp: string;
  stripeEventId: string;
  stripeEventType: string;
  /** "recipe <id>@<version> step <n> (<type>)", for error messages. */
  where: string;
}

/** The input of every action activity. */
export interface ActionInput {
  /** Catalog action type, e.g. "segment.track". */
  type: string;
  /** Fields produced by the step's mapping; validated by the action against its schema. */
  fields: Record<string, unknown>;
  /** The step's settings (`with`), already validated when the recipe loaded. */
  options?: Record<string, unknown>;
  meta: ActionMeta;
}

export interface SegmentCallResult {
  type: string;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  event?: string;
}

export interface SegmentDeps {
  analytics: Analytics;
  integration: { name: string; version: string };
}

export interface SegmentMessage extends Record<string, unknown> {
  messageId: string;
  timestamp: Date;
  context: Record<string, unknown>;
}

/**
 * Every action's check of its mapped fields against its catalog schema: a violation is a
 * non-retryable failure naming the step and the field, since a retry cannot fix a mapping.
 */
export function validateActionFields(input: ActionInput, action: ActionInfo | undefined = actionFor(input.type)): Record<string, unknown> {
  if (!action) throw ApplicationFailure.nonRetryable(`${input.meta.where}: unknown action "${input.type}"`, 'UnknownAction');
  const parsed = action.schema.safeParse(input.fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw ApplicationFailure.nonRetryable(
      `${input.meta.where}: ${input.type} input is invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}. Fix the recipe's mapping.`,
      'InvalidMappingOutput',
    );
  }
  return parsed.data;
}

/**
 * Validates mapped fields against the Segment Spec schema of the call and builds the exact
 * message: deterministic messageId, timestamp = the Stripe event's time, a context naming the
 * integration and the Stripe event. Throws a non-retryable failure naming the field.
 */
export function buildSegmentMessage(input: ActionInput, integration: SegmentDeps['integration']): { call: SegmentCall; message: SegmentMessage } {
  const { type, meta } = input;
  const call = type.startsWith('segment.') ? type.slice('segment.'.length) : '';
  const action = actionFor(type);
  if (!action || !isSegmentCall(call)) {
    throw ApplicationFailure.nonRetryable(`${meta.where}: "${type}" is not a Segment action`, 'UnknownAction');
  }
  const { context: extraContext, ...rest } = validateActionFields(input, action) as Record<string, unknown> & { context?: Record<string, unknown> };
  const message: SegmentMessage = {
    ...rest,
    messageId: messageIdFor(meta.idempotencySeed),
    timestamp: new Date(meta.timestamp),
    context: {
      ...extraContext,
      integration,
      stripe: { event_id: meta.stripeEventId, event_type: meta.stripeEventType },
    },
  };
  const size = Buffer.byteLength(JSON.stringify(message));
  if (size > MAX_MESSAGE_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `${meta.where}: the Segment ${call} message is ${size} bytes; Segment accepts at most ${MAX_MESSAGE_BYTES}. Map fewer fields.`,
      'MessageTooLarge',
    );
  }
  return { call, message };
}

/** Segment answers that a retry cannot fix are 4xx other than these. */
const RETRYABLE_4XX = new Set([408, 410, 429, 460]);

/** Longer than a Segment request (10 s) plus a Retry-After wait the client honours (60 s). */
const CONFIRMATION_TIMEOUT_MS = 80_000;

export function createSegmentActivities({ analytics, integration }: SegmentDeps) {
  const deliveries = new DeliveryTracker(analytics);
  return {
    /** Sends one Segment call (any of the Spec's six) and completes only after Segment confirmed delivery. */
    async segmentCall(input: ActionInput): Promise<SegmentCallResult> {
      const { call, message } = buildSegmentMessage(input, integration);
      const delivered = deliveries.wait(message.messageId, CONFIRMATION_TIMEOUT_MS);
      // Each call has its own params type; the schema above guarantees the shape.
      (analytics[call] as (params: unknown) => void).call(analytics, message);
      await delivered.catch((err: unknown) => {
        throw classifyDeliveryError(err, input.meta.where, call);
      });
      const m = message as { userId?: string; anonymousId?: string; event?: string };
      return {
        type: input.type,
        messageId: message.messageId,
        ...(m.userId ? { userId: m.userId } : {}),
        ...(m.anonymousId ? { anonymousId: m.anonymousId } : {}),
        ...(m.event ? { event: m.event } : {}),
      };
    },
  };
}

/** analytics-node reports HTTP failures as "[status] statusText"; 4xx other than the retryable ones are permanent. */
export function classifyDeliveryError(err: unknown, where: string, call: string): ApplicationFailure {
  const reason = err instanceof Error ? err.message : String(err);
  const status = Number(/^\[(\d{3})\]/.exec(reason)?.[1]);
  if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
    const hint = status === 401 || status === 403 ? ' Check SEGMENT_WRITE_KEY.' : '';
    return ApplicationFailure.nonRetryable(`${where}: Segment rejected the ${call} call: HTTP ${reason}.${hint}`, 'SegmentRejected');
  }
  return ApplicationFailure.retryable(`${where}: Segment delivery failed (will retry): ${reason}`, 'SegmentUnavailable');
}
