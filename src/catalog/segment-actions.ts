import { z } from 'zod';

/** Segment rejects messages larger than 32 KB. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

const traits = z.record(z.string(), z.unknown());
const nonEmpty = z.string().trim().min(1);

/**
 * The Segment actions a recipe step can use: `segment.<name>`, one entry each, with the zod
 * schema of the fields a mapping must produce (following the Segment Spec).
 */
export const segmentActions = {
  identify: {
    title: 'Segment Identify User',
    slug: 'segment.identify-user',
    description: 'Ties a user to their traits (email, name, plan, …) in Segment.',
    schema: z
      .object({
        userId: nonEmpty.optional(),
        anonymousId: nonEmpty.optional(),
        traits: traits.optional(),
      })
      .strict()
      .refine((v) => v.userId !== undefined || v.anonymousId !== undefined, {
        message: 'identify needs userId or anonymousId, and the mapping produced neither',
        path: ['userId'],
      }),
  },
} as const;

export type SegmentActionName = keyof typeof segmentActions;

export function isSegmentAction(name: string): name is SegmentActionName {
  return Object.prototype.hasOwnProperty.call(segmentActions, name);
}
