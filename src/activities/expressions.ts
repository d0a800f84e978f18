import { ApplicationFailure } from '@temporalio/common';
import { EvaluationError, ExpressionEvaluator, type ExpressionData } from '../recipes/evaluate';

export interface MappingInput {
  /** For error messages: which recipe step this belongs to. */
  where: string;
  /** field → JSONata expression */
  expressions: Record<string, string>;
  data: ExpressionData;
}

export interface FilterInput {
  where: string;
  expression: string;
  data: ExpressionData;
}

export function createExpressionActivities() {
  const evaluator = new ExpressionEvaluator();
  // An expression that fails on this payload fails again on retry: permanent, with the field named.
  const permanent = (where: string, err: unknown) =>
    err instanceof EvaluationError ? ApplicationFailure.nonRetryable(`${where}: ${err.message}`, 'ExpressionError') : err;

  return {
    /** Evaluates a recipe step's field mapping over `{ event, ai, lookup }`. */
    async evaluateMapping(input: MappingInput): Promise<Record<string, unknown>> {
      try {
        return await evaluator.map(input.expressions, input.data);
      } catch (err) {
        throw permanent(input.where, err);
      }
    },

    /** Evaluates a filter step: true lets the recipe go on. */
    async evaluateFilter(input: FilterInput): Promise<boolean> {
      try {
        return await evaluator.filter(input.expression, input.data);
      } catch (err) {
        throw permanent(input.where, err);
      }
    },
  };
}
