import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { Registry } from 'prom-client';
import { createAiMetrics, createOpenAIActivities, createOpenAIClient, type ClassifyInput } from '../../src/activities/openai';
import { startOpenAIStandIn, type OpenAIStandIn } from '../helpers/openai-standin';

const KEY = 'sk-test-standin';
const input = (over: Partial<ClassifyInput> = {}): ClassifyInput => ({
  model: 'gpt-test',
  instructions: 'Classify the dispute.',
  input: { reason: 'fraudulent', amount: 120 },
  output: { urgency: ['low', 'medium', 'high'], cause: ['fraud', 'other'] },
  where: 'recipe dispute@v1 step 2 (classify)',
  ...over,
});
const good = JSON.stringify({ urgency: 'high', cause: 'fraud' });

describe('classify activity against an OpenAI-compatible stand-in', () => {
  let standIn: OpenAIStandIn;
  let registry: Registry;
  let classify: (i: ClassifyInput) => Promise<any>;
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR', () => undefined) });

  beforeEach(async () => {
    standIn = await startOpenAIStandIn({ apiKey: KEY, allowedInputKeys: ['reason', 'amount'], fallback: { content: good } });
    registry = new Registry();
    const acts = createOpenAIActivities({ openai: createOpenAIClient(KEY, standIn.url, 500), aiMetrics: createAiMetrics(registry) });
    classify = (i) => env.run(acts.classify, i);
  });
  afterEach(() => standIn.close());

  const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as ApplicationFailure);

  it('sends the model, a strict JSON-schema response_format and only the picked input; returns fields, model and usage', async () => {
    const result = await classify(input());
    expect(result).toEqual({
      fields: { urgency: 'high', cause: 'fraud' },
      model: 'gpt-test-standin',
      usage: { prompt_tokens: 120, completion_tokens: 12, total_tokens: 132 },
      calls: 1,
    });
    const [req] = standIn.requests;
    expect(req!.problems).toEqual([]);
    expect(req!.model).toBe('gpt-test');
    expect(req!.body.response_format.json_schema).toMatchObject({
      strict: true,
      schema: { properties: { urgency: { enum: ['low', 'medium', 'high'] }, cause: { enum: ['fraud', 'other'] } }, additionalProperties: false },
    });
    expect(req!.body.messages).toEqual([
      { role: 'system', content: 'Classify the dispute.' },
      { role: 'user', content: JSON.stringify({ reason: 'fraudulent', amount: 120 }) },
    ]);
    const text = await registry.metrics();
    expect(text).toMatch(/stripe_segment_ai_calls_total\{model="gpt-test-standin",outcome="ok"\} 1/);
    expect(text).toMatch(/stripe_segment_ai_tokens_total\{model="gpt-test-standin",kind="prompt"\} 120/);
  });

  it('the stand-in notices an input carrying more than the chosen fields', async () => {
    await classify(input({ input: { reason: 'fraudulent', amount: 120, email: 'x@example.com' } }));
    expect(standIn.requests[0]!.problems).toEqual(['input carries fields beyond the chosen ones: email']);
  });

  it('429: retryable, with the next retry when Retry-After says', async () => {
    standIn.replies.push({ status: 429, headers: { 'retry-after': '2' } });
    const err = await failure(classify(input()));
    expect(err).toMatchObject({ type: 'AiRateLimited', nonRetryable: false, nextRetryDelay: 2000 });
    expect(err.message).toMatch(/answered 429 \(will retry after 2000 ms, as Retry-After asks\)/);
  });

  it('500: retryable', async () => {
    standIn.replies.push({ status: 500 });
    expect(await failure(classify(input()))).toMatchObject({ type: 'AiUnavailable', nonRetryable: false });
  });

  it('a timeout: retryable', async () => {
    standIn.replies.push({ delayMs: 1500, content: good });
    const err = await failure(classify(input()));
    expect(err).toMatchObject({ type: 'AiTimeout', nonRetryable: false });
    expect(await registry.metrics()).toMatch(/outcome="timeout"\} 1/);
  });

  it.each([
    [400, /refused the request: 400/],
    [401, /refused the request: 401 .*Check OPENAI_API_KEY/],
    [403, /refused the request: 403 .*Check OPENAI_API_KEY/],
    [404, /refused the request: 404 .*Check the model name/],
  ])('%i: not retryable, with the reason', async (status, message) => {
    standIn.replies.push({ status });
    const err = await failure(classify(input()));
    expect(err).toMatchObject({ type: 'AiRejected', nonRetryable: true });
    expect(err.message).toMatch(message);
    expect(standIn.requests).toHaveLength(1);
  });

  it('a malformed reply is asked again once', async () => {
    standIn.replies.push({ content: 'Sure! The urgency is high.' });
    const result = await classify(input());
    expect(result).toMatchObject({ fields: { urgency: 'high', cause: 'fraud' }, calls: 2, usage: { total_tokens: 264 } });
    expect(await registry.metrics()).toMatch(/outcome="invalid_reply"\} 1/);
  });

  it('a reply that violates the schema twice fails for good, naming the field', async () => {
    standIn.fallback = { content: JSON.stringify({ urgency: 'apocalyptic', cause: 'fraud' }) };
    const err = await failure(classify(input()));
    expect(err).toMatchObject({ type: 'AiReplyInvalid', nonRetryable: true });
    expect(err.message).toMatch(/failed the output schema twice \("urgency": Invalid option/);
    expect(standIn.requests).toHaveLength(2);
  });

  it('without a client (no OPENAI_API_KEY) fails for good with what to do', async () => {
    const acts = createOpenAIActivities({});
    const err = await failure(env.run(acts.classify, input()));
    expect(err).toMatchObject({ nonRetryable: true, message: expect.stringMatching(/no OPENAI_API_KEY; set it/) });
  });
});
