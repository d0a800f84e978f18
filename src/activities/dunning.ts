import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { durationMs } from '../catalog/actions';
import { dunningWorkflow, failureSignal, recoveredSignal, type DunningConfig } from '../workflows/dunning';
import { validateActionFields, type ActionInput } from './segment';

export const dunningWorkflowId = (key: string) => `dunning/${key}`;

export interface DunningActionResult {
  workflowId?: string;
  /** For recover: whether an open sequence got the signal. */
  signaled?: boolean;
}

/**
 * Dunning actions. They use the worker's own Temporal client (from the activity context): one
 * sequence per key, opened or joined atomically with signalWithStart.
 */
export function createDunningActivities() {
  return {
    async openDunning(input: ActionInput): Promise<DunningActionResult> {
      const { key, userId, anonymousId, ...details } = validateActionFields(input) as { key: string; userId?: string; anonymousId?: string } & Record<string, unknown>;
      const options = input.options as { schedule: string[]; restartOnFailure: boolean; events: DunningConfig['events'] };
      const recipeId = input.meta.idempotencySeed.split('/')[1] ?? '';
      const config: DunningConfig = {
        key,
        schedule: options.schedule,
        scheduleMs: options.schedule.map(durationMs),
        restartOnFailure: options.restartOnFailure,
        events: options.events,
        recipeId,
      };
      const ctx = Context.current();
      const workflowId = dunningWorkflowId(key);
      await ctx.client.workflow.signalWithStart(dunningWorkflow, {
        workflowId,
        taskQueue: ctx.info.taskQueue,
        args: [{ config }],
        signal: failureSignal,
        signalArgs: [
          {
            eventId: input.meta.stripeEventId,
            eventType: input.meta.stripeEventType,
            at: input.meta.timestamp,
            identity: { ...(userId ? { userId } : {}), ...(anonymousId ? { anonymousId } : {}) },
            details,
          },
        ],
        staticSummary: `dunning ${key} · ${options.schedule.join(', ')} · opened by ${input.meta.stripeEventType}`,
      });
      return { workflowId };
    },

    async recoverDunning(input: ActionInput): Promise<DunningActionResult> {
      const { key } = validateActionFields(input) as { key?: string };
      if (!key) return { signaled: false }; // e.g. a guest payment: no invoice, no customer
      const workflowId = dunningWorkflowId(key);
      try {
        await Context.current()
          .client.workflow.getHandle(workflowId)
          .signal(recoveredSignal, { eventId: input.meta.stripeEventId, eventType: input.meta.stripeEventType, at: input.meta.timestamp });
        return { workflowId, signaled: true };
      } catch (err) {
        // No open sequence for this key (never opened, or already ended): nothing to do.
        if (err instanceof WorkflowNotFoundError) return { workflowId, signaled: false };
        throw err;
      }
    },
  };
}
