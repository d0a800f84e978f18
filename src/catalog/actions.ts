import { z } from 'zod';
import { DURATION, durationMs } from '../duration';

export { DURATION, durationMs };

/**
 * Every action a recipe step can take: `type` is what the recipe names, `activity` the worker
 * activity that performs it, `schema` what the step's mapping must produce. Adding an action is
 * one activity file plus one entry here (see README, "Adding an action").
 */
export interface ActionInfo {
  type: string;
  slug: string;
  title: string;
  description: string;
  /** Name of the activity (a key of createActivities()) that performs the action. */
  activity: string;
  schema: z.ZodType<Record<string, unknown>>;
  /** Step settings beyond the mapping (the step's `with`), validated when the recipe loads. */
  options?: z.ZodType<Record<string, unknown>>;
  /** Mapping expressions used when the step's `map` leaves a field out. */
  defaults?: Record<string, string>;
}

/** Segment rejects messages larger than 32 KB. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

const nonEmpty = z.string().trim().min(1);
const dict = z.record(z.string(), z.unknown());
const common = { context: dict.optional(), integrations: z.record(z.string(), z.union([z.boolean(), dict])).optional() };
const identity = { userId: nonEmpty.optional(), anonymousId: nonEmpty.optional() };
const needsIdentity = <T extends { userId?: string; anonymousId?: string }>(v: T) => v.userId !== undefined || v.anonymousId !== undefined;
const identityMessage = (call: string) => ({ message: `${call} needs userId or anonymousId, and the mapping produced neither`, path: ['userId'] });

/** The Segment Spec calls (https://segment.com/docs/connections/spec/). */
const segment = {
  identify: z.object({ ...identity, traits: dict.optional(), ...common }).strict().refine(needsIdentity, identityMessage('identify')),
  track: z
    .object({ ...identity, event: nonEmpty.describe('the event name, e.g. "Order Completed"'), properties: dict.optional(), ...common })
    .strict()
    .refine(needsIdentity, identityMessage('track')),
  group: z.object({ ...identity, groupId: nonEmpty, traits: dict.optional(), ...common }).strict().refine(needsIdentity, identityMessage('group')),
  alias: z.object({ userId: nonEmpty, previousId: nonEmpty, ...common }).strict(),
  page: z
    .object({ ...identity, name: nonEmpty.optional(), category: nonEmpty.optional(), properties: dict.optional(), ...common })
    .strict()
    .refine(needsIdentity, identityMessage('page')),
  screen: z.object({ ...identity, name: nonEmpty.optional(), properties: dict.optional(), ...common }).strict().refine(needsIdentity, identityMessage('screen')),
};

export type SegmentCall = keyof typeof segment;

const segmentAction = (call: SegmentCall, title: string, slug: string, description: string): ActionInfo => ({
  type: `segment.${call}`,
  slug,
  title,
  description,
  activity: 'segmentCall',
  schema: segment[call] as unknown as z.ZodType<Record<string, unknown>>,
});

export const actions: ActionInfo[] = [
  segmentAction('identify', 'Segment Identify User', 'segment.identify-user', 'Ties a user to their traits (email, name, plan, …).'),
  segmentAction('track', 'Segment Track Event', 'segment.track-event', 'Records an action the user performed, with properties.'),
  segmentAction('group', 'Segment Group User', 'segment.group-user', 'Associates a user with a group (company, account) and its traits.'),
  segmentAction('alias', 'Segment Alias User', 'segment.alias-user', 'Merges two user identities (previousId into userId).'),
  segmentAction('page', 'Segment Page View', 'segment.page-view', 'Records a page the user saw.'),
  segmentAction('screen', 'Segment Screen View', 'segment.screen-view', 'Records a mobile screen the user saw.'),
];

/** By default a sequence is keyed by the invoice (invoice events, or a payment's invoice), else the customer. */
const DEFAULT_DUNNING_KEY =
  "event.data.object.object = 'invoice' ? event.data.object.id : (event.data.object.invoice ? event.data.object.invoice : event.data.object.customer)";

actions.push(
  {
    type: 'dunning.open',
    slug: 'dunning.open',
    title: 'Open Dunning Sequence',
    description: 'Opens (or joins) the dunning sequence of the key: durable timers on the schedule, a Segment track at each step, ended by a recovery.',
    activity: 'openDunning',
    schema: z
      .object({
        key: nonEmpty,
        ...identity,
        amount_due: z.number().optional(),
        currency: z.string().optional(),
        attempt_count: z.number().int().optional(),
        hosted_invoice_url: z.string().optional(),
      })
      .strict()
      .refine(needsIdentity, identityMessage('dunning.open')),
    options: z
      .object({
        schedule: z
          .array(z.string().regex(DURATION, 'each step is a duration such as "1d", "36h" or "30m"'))
          .min(1, 'give at least one step')
          .refine((s) => s.every((d, i) => i === 0 || durationMs(d) > durationMs(s[i - 1]!)), 'offsets must increase, e.g. ["1d", "3d", "7d"]')
          .default(['1d', '3d', '7d']),
        restartOnFailure: z.boolean().default(false),
        events: z
          .object({
            step: z.string().min(1).default('Dunning Step Reached'),
            recovered: z.string().min(1).default('Payment Recovered'),
            exhausted: z.string().min(1).default('Dunning Exhausted'),
          })
          .strict()
          .default({ step: 'Dunning Step Reached', recovered: 'Payment Recovered', exhausted: 'Dunning Exhausted' }),
      })
      .strict(),
    defaults: { key: DEFAULT_DUNNING_KEY },
  },
  {
    type: 'dunning.recover',
    slug: 'dunning.recover',
    title: 'Recover Dunning Sequence',
    description: 'Ends the open dunning sequence of the key, if any, with "Payment Recovered". No key or no open sequence: nothing happens.',
    activity: 'recoverDunning',
    schema: z.object({ key: nonEmpty.optional() }).strict(),
    defaults: { key: DEFAULT_DUNNING_KEY },
  },
);

const byType = new Map(actions.map((a) => [a.type, a]));

export function actionFor(type: string): ActionInfo | undefined {
  return byType.get(type);
}

export function isSegmentCall(name: string): name is SegmentCall {
  return Object.prototype.hasOwnProperty.call(segment, name);
}
