import { z } from 'zod';
import type { ClassifyOutput } from './types';

/** The zod schema of a classify step's reply, from its declared output. */
export function classifyOutputSchema(output: ClassifyOutput) {
  const shape: Record<string, z.ZodType> = {};
  for (const [field, spec] of Object.entries(output)) {
    if (Array.isArray(spec)) shape[field] = z.enum(spec as [string, ...string[]]);
    else if (spec === 'number') shape[field] = z.number();
    else if (spec === 'boolean') shape[field] = z.boolean();
    else shape[field] = z.string();
  }
  return z.object(shape).strict();
}
