import { formatVerdict, PROFILES, runChaos, type Verdict } from './harness';

/**
 * Reliability under faults: the real stack through worker SIGKILLs, a Temporal restart, Segment
 * 500s, 429s and an outage, OpenAI timeouts, duplicate and forged deliveries. `npm test` runs the
 * short profile; `npm run chaos` the long one (CHAOS_PROFILE=long).
 */
const name = process.env.CHAOS_PROFILE === 'long' ? 'long' : 'short';
const profile = PROFILES[name];

describe(`chaos (${name} profile)`, () => {
  let verdict: Verdict;

  beforeAll(async () => {
    verdict = await runChaos(profile, (msg) => process.env.CHAOS_VERBOSE && process.stderr.write(`chaos: ${msg}\n`));
    process.stderr.write(`${formatVerdict(name, verdict)}\nchaos verdict (${name}, JSON): ${JSON.stringify({ ...verdict, profile: undefined })}\n`);
  }, (profile.events / profile.ratePerS + profile.drainTimeoutS + 180) * 1000);

  it('injected every fault', () => {
    // Segment 500s, 429s and outage, the Temporal restart, each worker SIGKILL, the OpenAI timeouts.
    expect(verdict.faults).toHaveLength(5 + profile.workerKills.length);
    expect(verdict.faults.at(-1)).toMatch(/^OpenAI: \d+ classify calls timed out/);
    expect(verdict.answers['503']).toBeGreaterThan(0); // the ingress refused while Temporal was down…
    // …and each fault did something where it happened: Segment answered 500s and 429s, and every
    // SIGKILL hit a live worker.
    expect(verdict.segment500Answers).toBeGreaterThan(0);
    expect(verdict.segment429Answers).toBeGreaterThan(0);
    expect(verdict.workerKillsLanded).toBe(profile.workerKills.length);
  });

  it('acked every event (the generator retries like Stripe)', () => {
    expect(verdict.acked).toBe(verdict.sent);
    expect(verdict.duplicateDeliveries).toBeGreaterThan(0);
  });

  it('delivered exactly the expected messageIds: none missing, none extra', () => {
    expect(verdict.expectedMessages).toBeGreaterThan(verdict.acked);
    expect(verdict.missingMessages).toBe(0);
    expect(verdict.extraMessageIds).toBe(0);
    expect(verdict.delivered).toBe(verdict.acked);
    // …and each says what the recipe maps from its event (AI fields included, after timeouts).
    expect(verdict.wrongMessages).toBe(0);
  });

  it('started no workflow for a forged or malformed request', () => {
    expect(verdict.forgedSent).toBeGreaterThan(0);
    expect(verdict.forgedRefused).toBe(verdict.forgedSent);
    expect(verdict.forgedStarted).toBe(0);
  });

  it('left no workflow running or failed', () => {
    expect(verdict.workflowsRunning).toBe(0);
    expect(verdict.workflowsFailed).toBe(0);
  });

  it('ran each acked event exactly once, to completion', () => {
    // Duplicate and concurrent deliveries started no second run; none timed out or was terminated.
    expect(verdict.runsStarted).toBe(verdict.acked);
    expect(verdict.runsCompleted).toBe(verdict.acked);
  });
});
