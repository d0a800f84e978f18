import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { ENV_VARIABLES } from '../../src/config';

/**
 * docker compose cannot run on the CI machine, so its file is checked here: the app services pass
 * only variables the service reads, and the two roles agree on the settings both read.
 */
type Service = { command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> };
const compose = load(readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const env = (name: string) => compose.services[name]?.environment ?? {};

describe('docker-compose.yml', () => {
  it('runs the api and the worker roles of the image', () => {
    expect(compose.services.api?.command).toEqual(['api']);
    expect(compose.services.worker?.command).toEqual(['worker']);
  });

  it.each(['api', 'worker'])('passes %s only variables the service reads', (name) => {
    const unknown = Object.keys(env(name)).filter((k) => !(ENV_VARIABLES as string[]).includes(k));
    expect(unknown).toEqual([]);
  });

  // The ingress snapshots recipes (a classify step's model is part of its version) and filters by
  // livemode; the worker's reconciliation does the same, so a setting on one role only would make
  // the two disagree.
  it.each(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'STRIPE_LIVEMODE', 'OPENAI_MODEL', 'OPENAI_API_KEY'])(
    'gives the api and the worker the same %s',
    (key) => {
      expect(env('api')[key]).toBeDefined();
      expect(env('worker')[key]).toBe(env('api')[key]);
    },
  );

  it('keeps runs for at least Stripe’s 3-day retry window', () => {
    expect(env('temporal').DEFAULT_NAMESPACE_RETENTION).toMatch(/^(7[2-9]|[89]\d|\d{3,})h$/);
  });
});
