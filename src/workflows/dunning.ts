import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ActionMeta } from '../activities/segment';

/**
 * A dunning sequence: one per key (`dunning/<key>`, by default the invoice id), opened by a failed
 * payment, lasting days on durable timers, and ended the moment a recovery signal arrives.
 */

export interface DunningIdentity {
  userId?: string;
  anonymousId?: string;
}

/** What the failing event said about the debt; refreshed by each repeated failure. */
export interface DunningDetails {
  amount_due?: number;
  currency?: string;
  attempt_count?: number;
  hosted_invoice_url?: string;
  [key: string]: unknown;
}

export interface DunningFailure {
  eventId: string;
  eventType: string;
  /** ISO time of the failing event. */
  at: string;
  identity: DunningIdentity;
  details: DunningDetails;
}

export interface DunningRecovery {
  eventId: string;
  eventType: string;
  at: string;
}

export interface DunningConfig {
  key: string;
  /** Offsets from the opening failure, e.g. ["1d", "3d", "7d"] (ms numbers after parsing). */
  scheduleMs: number[];
  /** Labels of the schedule as written in the recipe, for summaries. */
  schedule: string[];
  /** A repeated failure starts the schedule again from that failure. */
  restartOnFailure: boolean;
  events: { step: string; recovered: string; exhausted: string };
  recipeId: string;
}

export interface DunningState {
  /** Steps reached so far (0 … schedule length). */
  stage: number;
  /** When the schedule's offsets count from (ms since epoch). */
  baseMs: number;
  openedAt: string;
  openedBy: string;
  attempts: number;
  identity: DunningIdentity;
  details: DunningDetails;
  /** Failures already counted, so a duplicate delivery does not count twice. */
  seenEvents: string[];
  /** Times the schedule started again (restartOnFailure); part of the step messages' ids. */
  restarts?: number;
}

export interface DunningInput {
  config: DunningConfig;
  /** Absent on the first run; carried over by continue-as-new. */
  state?: DunningState;
}

export interface DunningStatus {
  key: string;
  status: 'waiting' | 'recovered' | 'exhausted';
  stage: number;
  steps: number;
  nextStepAt: string | null;
  attempts: number;
  openedAt: string;
  openedBy: string;
  details: DunningDetails;
}

export interface DunningResult {
  key: string;
  outcome: 'recovered' | 'exhausted';
  stage: number;
  attempts: number;
  messageIds: string[];
}

export const failureSignal = defineSignal<[DunningFailure]>('failure');
export const recoveredSignal = defineSignal<[DunningRecovery]>('recovered');
export const statusQuery = defineQuery<DunningStatus>('status');

const { segmentCall } = proxyActivities<Activities>({
  startToCloseTimeout: '90s',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '72h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m' },
});

/** History stays bounded: a long run of repeated failures continues as a new run. */
const MAX_HISTORY_EVENTS = 2000;

export async function dunningWorkflow({ config, state: carried }: DunningInput): Promise<DunningResult> {
  const state: DunningState = carried ?? {
    stage: 0,
    baseMs: Date.now(),
    openedAt: new Date().toISOString(),
    openedBy: '',
    attempts: 0,
    identity: {},
    details: {},
    seenEvents: [],
  };
  let recovery: DunningRecovery | undefined;
  let restart = false;
  let outcome: DunningStatus['status'] = 'waiting';
  const messageIds: string[] = [];

  setHandler(failureSignal, (failure) => {
    if (state.seenEvents.includes(failure.eventId)) return; // a duplicate delivery
    state.seenEvents = [...state.seenEvents, failure.eventId].slice(-50);
    state.attempts += 1;
    state.identity = { ...state.identity, ...failure.identity };
    state.details = { ...state.details, ...failure.details };
    if (!state.openedBy) {
      state.openedBy = failure.eventId;
      state.openedAt = failure.at;
    } else if (config.restartOnFailure) {
      restart = true;
    }
  });
  setHandler(recoveredSignal, (r) => {
    recovery ??= r;
  });
  const nextStepAt = () => (state.stage < config.scheduleMs.length ? state.baseMs + config.scheduleMs[state.stage]! : null);
  setHandler(statusQuery, () => {
    const next = nextStepAt();
    return {
      key: config.key,
      status: outcome,
      stage: state.stage,
      steps: config.scheduleMs.length,
      nextStepAt: next === null ? null : new Date(next).toISOString(),
      attempts: state.attempts,
      openedAt: state.openedAt,
      openedBy: state.openedBy,
      details: state.details,
    };
  });

  /** One Segment call; the seed keys it to this sequence and step, so retries and replays dedup. */
  const send = async (type: 'segment.track' | 'segment.identify', fields: Record<string, unknown>, label: string) => {
    const meta: ActionMeta = {
      idempotencySeed: `dunning/${config.key}/${state.openedBy}/${label}`,
      timestamp: new Date().toISOString(),
      stripeEventId: state.openedBy,
      stripeEventType: 'dunning',
      where: `dunning ${config.key} (${config.recipeId}) ${label}`,
    };
    const result = await segmentCall({ type, fields: { ...state.identity, ...fields }, meta });
    messageIds.push(result.messageId);
  };
  const common = () => ({
    dunning_key: config.key,
    amount_due: state.details.amount_due,
    currency: state.details.currency,
    attempt_count: state.details.attempt_count ?? state.attempts,
    hosted_invoice_url: state.details.hosted_invoice_url,
  });
  const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

  // The opening failure arrives as a signal with the start (signalWithStart).
  await condition(() => state.attempts > 0 || recovery !== undefined);

  while (state.stage < config.scheduleMs.length) {
    const due = nextStepAt()!;
    setCurrentDetails(
      `**Dunning ${config.key}**: step ${state.stage} of ${config.scheduleMs.length} reached; next step ${state.stage + 1} at ${new Date(due).toISOString()}; ${state.attempts} failed attempt(s).`,
    );
    const woken = await condition(() => recovery !== undefined || restart, Math.max(1, due - Date.now()), {
      summary: `dunning step ${state.stage + 1} of ${config.scheduleMs.length} (${config.schedule[state.stage]} after the failure)`,
    });
    if (recovery) break;
    if (restart) {
      restart = false;
      state.stage = 0;
      state.baseMs = Date.now();
      state.restarts = (state.restarts ?? 0) + 1;
      continue;
    }
    if (!woken) {
      state.stage += 1;
      // After a restart the step numbers repeat: a new id, or Segment would drop them as duplicates.
      const label = state.restarts ? `restart-${state.restarts}-step-${state.stage}` : `step-${state.stage}`;
      await send('segment.track', { event: config.events.step, properties: compact({ ...common(), step: state.stage, steps_total: config.scheduleMs.length }) }, label);
    }
    if (workflowInfo().historyLength > MAX_HISTORY_EVENTS && !recovery) {
      await continueAsNew<typeof dunningWorkflow>({ config, state });
    }
  }

  if (recovery) {
    outcome = 'recovered';
    const seconds = Math.round((Date.parse(recovery.at) - Date.parse(state.openedAt)) / 1000);
    setCurrentDetails(`**Dunning ${config.key}**: recovered by ${recovery.eventType} ${recovery.eventId} after step ${state.stage}.`);
    await send(
      'segment.track',
      { event: config.events.recovered, properties: compact({ ...common(), step_reached: state.stage, time_to_recover_seconds: Math.max(0, seconds), recovered_by: recovery.eventType }) },
      'recovered',
    );
  } else {
    outcome = 'exhausted';
    setCurrentDetails(`**Dunning ${config.key}**: exhausted after ${config.scheduleMs.length} steps.`);
    await send('segment.track', { event: config.events.exhausted, properties: compact({ ...common(), steps_total: config.scheduleMs.length }) }, 'exhausted');
  }
  if (state.identity.userId || state.identity.anonymousId) {
    await send('segment.identify', { traits: { dunning_status: outcome } }, `status-${outcome}`);
  }
  return { key: config.key, outcome, stage: state.stage, attempts: state.attempts, messageIds };
}
