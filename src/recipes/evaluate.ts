import jsonata from 'jsonata';
import { registerRecipeFunctions } from './functions';

type Expression = ReturnType<typeof jsonata>;

/** What recipe expressions see. */
export interface ExpressionData {
  event: unknown;
  ai?: Record<string, unknown>;
  lookup?: Record<string, unknown>;
}

/** An expression that failed while running; `field` names the mapping field or "if"/"id". */
export class EvaluationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Removes null, undefined and empty objects, so a Stripe field that is null never blanks a
 * trait in Segment. Arrays keep their positions.
 */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value !== null && typeof value === 'object') {
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

/** Compiles expressions once per process; recipes are few and expressions immutable. */
export class ExpressionEvaluator {
  private readonly cache = new Map<string, Expression>();

  private compile(expr: string): Expression {
    let compiled = this.cache.get(expr);
    if (!compiled) {
      compiled = jsonata(expr);
      registerRecipeFunctions(compiled);
      this.cache.set(expr, compiled);
    }
    return compiled;
  }

  async evaluate(field: string, expr: string, data: ExpressionData): Promise<unknown> {
    try {
      const value = await this.compile(expr).evaluate(data);
      // JSONata may return its own sequence arrays; a JSON round trip gives plain data.
      return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    } catch (err) {
      throw new EvaluationError(field, `the expression of "${field}" failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** A step's field mapping, compacted. */
  async map(expressions: Record<string, string>, data: ExpressionData): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [field, expr] of Object.entries(expressions)) {
      const value = await this.evaluate(field, expr, data);
      if (value !== undefined) out[field] = value;
    }
    return compact(out) as Record<string, unknown>;
  }

  /** A filter passes only when its expression is exactly true. */
  async filter(expr: string, data: ExpressionData): Promise<boolean> {
    return (await this.evaluate('if', expr, data)) === true;
  }
}
