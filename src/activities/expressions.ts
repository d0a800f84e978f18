import { ApplicationFailure } from '@temporalio/common';
import jsonata from 'jsonata';

export interface MappingInput {
  /** For error messages: which recipe step this mapping belongs to. */
  where: string;
  /** field → JSONata expression */
  expressions: Record<string, string>;
  /** What expressions see: `{ event, ai }`. */
  data: Record<string, unknown>;
}

type Expression = ReturnType<typeof jsonata>;

/**
 * Removes null, undefined and empty objects, so a Stripe field that is null never blanks a
 * trait in Segment. Arrays keep their positions.
 */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c === undefined || c === null) continue;
      if (typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0) continue;
      out[k] = c;
    }
    return out;
  }
  return value ?? undefined;
}

export function createExpressionActivities() {
  // Compiled once per worker; recipes are few and expressions are immutable strings.
  const cache = new Map<string, Expression>();
  const compile = (expr: string): Expression => {
    let compiled = cache.get(expr);
    if (!compiled) {
      compiled = jsonata(expr);
      cache.set(expr, compiled);
    }
    return compiled;
  };

  return {
    /** Evaluates a recipe step's field mapping. Bad expressions fail for good: retrying cannot fix them. */
    async evaluateMapping(input: MappingInput): Promise<Record<string, unknown>> {
      const out: Record<string, unknown> = {};
      for (const [field, expr] of Object.entries(input.expressions)) {
        try {
          // JSONata may return its own sequence arrays; a JSON round trip gives plain data.
          const value = await compile(expr).evaluate(input.data);
          if (value !== undefined) out[field] = JSON.parse(JSON.stringify(value));
        } catch (err) {
          const e = err as { message?: string; code?: string };
          throw ApplicationFailure.nonRetryable(
            `${input.where}: the mapping of "${field}" failed: ${e.message ?? String(err)}`,
            'MappingError',
          );
        }
      }
      return compact(out) as Record<string, unknown>;
    },
  };
}
