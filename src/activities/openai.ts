import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { Counter, type Registry } from 'prom-client';
import { classifyOutputSchema } from '../recipes/classify-schema';
import type { ClassifyOutput } from '../recipes/types';

export interface ClassifyInput {
  model: string;
  instructions: string;
  /** The fields the step's input expression picked: all the model sees. */
  input: unknown;
  output: ClassifyOutput;
  where: string;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ClassifyResult {
  /** The validated reply: what `ai.*` holds for later steps. */
  fields: Record<string, unknown>;
  /** The model that answered, as the endpoint reported it. */
  model: string;
  usage: TokenUsage;
  /** Model calls made: 2 when the first reply failed the schema. */
  calls: number;
}

export function createAiMetrics(registry: Registry) {
  return {
    calls: new Counter({
      name: 'stripe_segment_ai_calls_total',
      help: 'Classify model calls by model and outcome (ok, invalid_reply, rate_limited, server_error, timeout, network, rejected)',
      labelNames: ['model', 'outcome'] as const,
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'stripe_segment_ai_tokens_total',
      help: 'Tokens used by classify calls, by model and kind (prompt, completion)',
      labelNames: ['model', 'kind'] as const,
      registers: [registry],
    }),
  };
}
export type AiMetrics = ReturnType<typeof createAiMetrics>;

export interface OpenAIDeps {
  /** Absent when OPENAI_API_KEY is unset (recipes needing it were refused at load). */
  openai?: OpenAI;
  aiMetrics?: AiMetrics;
}

/** An OpenAI (or compatible) client for the worker. Temporal does the retries, visibly. */
export function createOpenAIClient(apiKey: string, baseURL: string | undefined, timeoutMs: number): OpenAI {
  return new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}), timeout: timeoutMs, maxRetries: 0 });
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, as milliseconds. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** The failure for a failed call, and the outcome label for metrics. */
export function classifyOpenAIError(err: unknown, where: string, timedOut = false): { failure: Error; outcome: string } {
  if (err instanceof OpenAI.APIConnectionTimeoutError || (timedOut && err instanceof OpenAI.APIConnectionError)) {
    return { failure: ApplicationFailure.retryable(`${where}: the model did not answer in time (will retry)`, 'AiTimeout'), outcome: 'timeout' };
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return { failure: ApplicationFailure.retryable(`${where}: cannot reach the model endpoint (will retry): ${err.message}`, 'AiUnavailable'), outcome: 'network' };
  }
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const status = err.status;
    if (status === 429 || status >= 500) {
      const delay = retryAfterMs(err.headers);
      return {
        failure: ApplicationFailure.create({
          message: `${where}: the model endpoint answered ${status} (will retry${delay !== undefined ? ` after ${Math.round(delay)} ms, as Retry-After asks` : ''}): ${err.message}`,
          type: status === 429 ? 'AiRateLimited' : 'AiUnavailable',
          nonRetryable: false,
          ...(delay !== undefined ? { nextRetryDelay: Math.max(1, Math.round(delay)) } : {}),
        }),
        outcome: status === 429 ? 'rate_limited' : 'server_error',
      };
    }
    const hint =
      status === 401 || status === 403 ? ' Check OPENAI_API_KEY.' : status === 404 ? ' Check the model name (OPENAI_MODEL or the step) and OPENAI_BASE_URL.' : '';
    return {
      failure: ApplicationFailure.nonRetryable(`${where}: the model endpoint refused the request: ${status} ${err.message}.${hint}`, 'AiRejected'),
      outcome: 'rejected',
    };
  }
  return { failure: err as Error, outcome: 'error' };
}

export function createOpenAIActivities({ openai, aiMetrics }: OpenAIDeps) {
  return {
    /**
     * One classify step: asks the model with a structured-output JSON schema built from the
     * step's output, validates the reply, and asks once more if it does not match.
     */
    async classify(input: ClassifyInput): Promise<ClassifyResult> {
      if (!openai) {
        throw ApplicationFailure.nonRetryable(`${input.where}: this worker has no OPENAI_API_KEY; set it and restart the worker`, 'AiNotConfigured');
      }
      const schema = classifyOutputSchema(input.output);
      const responseFormat = zodResponseFormat(schema, 'classification');
      const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
      let problem = '';
      for (let call = 1; call <= 2; call++) {
        let completion: OpenAI.ChatCompletion;
        const started = Date.now();
        try {
          completion = await openai.chat.completions.create({
            model: input.model,
            messages: [
              { role: 'system', content: input.instructions },
              { role: 'user', content: JSON.stringify(input.input ?? {}) },
            ],
            response_format: responseFormat,
          });
        } catch (err) {
          // Some fetch implementations hide the abort behind a generic connection error; the clock does not.
          const { failure, outcome } = classifyOpenAIError(err, input.where, Date.now() - started >= openai.timeout);
          aiMetrics?.calls.inc({ model: input.model, outcome });
          throw failure;
        }
        const model = completion.model || input.model;
        usage.prompt_tokens += completion.usage?.prompt_tokens ?? 0;
        usage.completion_tokens += completion.usage?.completion_tokens ?? 0;
        usage.total_tokens += completion.usage?.total_tokens ?? 0;
        aiMetrics?.tokens.inc({ model, kind: 'prompt' }, completion.usage?.prompt_tokens ?? 0);
        aiMetrics?.tokens.inc({ model, kind: 'completion' }, completion.usage?.completion_tokens ?? 0);

        const message = completion.choices[0]?.message;
        let reply: unknown;
        try {
          if (message?.refusal) throw new Error(`the model refused: ${message.refusal}`);
          reply = JSON.parse(message?.content ?? '');
        } catch (err) {
          problem = `the reply is not JSON (${(err as Error).message})`;
          aiMetrics?.calls.inc({ model, outcome: 'invalid_reply' });
          continue;
        }
        const parsed = schema.safeParse(reply);
        if (parsed.success) {
          aiMetrics?.calls.inc({ model, outcome: 'ok' });
          return { fields: parsed.data, model, usage, calls: call };
        }
        const issue = parsed.error.issues[0]!;
        problem = `"${issue.path.join('.') || '(root)'}": ${issue.message}`;
        aiMetrics?.calls.inc({ model, outcome: 'invalid_reply' });
      }
      throw ApplicationFailure.nonRetryable(
        `${input.where}: the model's reply failed the output schema twice (${problem}). Check the step's instructions and output, or the model.`,
        'AiReplyInvalid',
      );
    },
  };
}
