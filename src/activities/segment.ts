import type { Analytics } from '@segment/analytics-node';
import { ApplicationFailure } from '@temporalio/common';
import { v5 as uuidv5 } from 'uuid';
import { MAX_MESSAGE_BYTES, isSegmentAction, segmentActions } from '../catalog/segment-actions';

/** Namespace of the deterministic Segment messageIds (UUIDv5). Never change it: Segment dedups on messageId. */
export const MESSAGE_ID_NAMESPACE = '6f1c3f5e-3b7e-4c55-9d0b-5a2f4f1f8c1d';

/** `${stripeEventId}/${recipeId}/${stepIndex}` → the same messageId on every retry and replay. */
export function messageIdFor(seed: string): string {
  return uuidv5(seed, MESSAGE_ID_NAMESPACE);
}

export interface SegmentCallInput {
  /** Segment action name, e.g. "identify". */
  action: string;
  /** Mapped fields, validated here against the action's schema. */
  fields: Record<string, unknown>;
  /** `${event.id}/${recipe.id}/${stepIndex}` */
  messageIdSeed: string;
  /** ISO time of the Stripe event (`created`). */
  timestamp: string;
  stripeEventId: string;
  stripeEventType: string;
  /** "recipe <id> step <n>", for error messages. */
  where: string;
}

export interface SegmentCallResult {
  action: string;
  messageId: string;
  userId?: string;
}

/** Segment answers that a retry cannot fix (bad write key, malformed message, …). */
const RETRYABLE_4XX = new Set([408, 410, 429, 460]);

export interface SegmentDeps {
  analytics: Analytics;
  integration: { name: string; version: string };
}

export function createSegmentActivities({ analytics, integration }: SegmentDeps) {
  return {
    /** Sends one Segment call and completes only after Segment confirmed delivery. */
    async segmentCall(input: SegmentCallInput): Promise<SegmentCallResult> {
      if (!isSegmentAction(input.action)) {
        throw ApplicationFailure.nonRetryable(`${input.where}: unknown Segment action "${input.action}"`, 'UnknownAction');
      }
      const parsed = segmentActions[input.action].schema.safeParse(input.fields);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ApplicationFailure.nonRetryable(
          `${input.where}: segment.${input.action} input is invalid at "${issue.path.join('.') || '(root)'}": ${issue.message}. Fix the recipe's mapping.`,
          'InvalidMappingOutput',
        );
      }
      const messageId = messageIdFor(input.messageIdSeed);
      const message = {
        ...parsed.data,
        messageId,
        timestamp: new Date(input.timestamp),
        context: {
          integration,
          stripe: { event_id: input.stripeEventId, event_type: input.stripeEventType },
        },
      };
      const size = Buffer.byteLength(JSON.stringify(message));
      if (size > MAX_MESSAGE_BYTES) {
        throw ApplicationFailure.nonRetryable(
          `${input.where}: the Segment ${input.action} message is ${size} bytes; Segment accepts at most ${MAX_MESSAGE_BYTES}. Map fewer fields.`,
          'MessageTooLarge',
        );
      }

      await new Promise<void>((resolve, reject) => {
        const callback = (err?: unknown) => (err ? reject(err) : resolve());
        switch (input.action) {
          case 'identify':
            analytics.identify(message as Parameters<Analytics['identify']>[0], callback);
            break;
        }
      }).catch((err: unknown) => {
        throw classifyDeliveryError(err, input);
      });
      return { action: input.action, messageId, ...(parsed.data.userId ? { userId: parsed.data.userId } : {}) };
    },
  };
}

/** analytics-node reports HTTP failures as "[status] statusText"; 4xx other than the retryable ones are permanent. */
export function classifyDeliveryError(err: unknown, input: Pick<SegmentCallInput, 'where' | 'action'>): ApplicationFailure {
  const reason = err instanceof Error ? err.message : String(err);
  const status = Number(/^\[(\d{3})\]/.exec(reason)?.[1]);
  if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
    const hint = status === 401 || status === 403 ? ' Check SEGMENT_WRITE_KEY.' : '';
    return ApplicationFailure.nonRetryable(
      `${input.where}: Segment rejected the ${input.action} call: HTTP ${reason}.${hint}`,
      'SegmentRejected',
    );
  }
  if (/maximum|exceed/i.test(reason) && !status) {
    return ApplicationFailure.nonRetryable(`${input.where}: Segment ${input.action} not sent: ${reason}`, 'MessageTooLarge');
  }
  return ApplicationFailure.retryable(`${input.where}: Segment delivery failed (will retry): ${reason}`, 'SegmentUnavailable');
}
