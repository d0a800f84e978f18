import { z } from 'zod';

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

const byType = new Map(actions.map((a) => [a.type, a]));

export function actionFor(type: string): ActionInfo | undefined {
  return byType.get(type);
}

export function isSegmentCall(name: string): name is SegmentCall {
  return Object.prototype.hasOwnProperty.call(segment, name);
}
