import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { createIngress, type IngressDeps } from '../../src/api/app';
import { listen, type ListeningIngress } from '../../src/api/server';
import { loadRecipes } from '../../src/recipes/loader';

export interface TestIngress extends ListeningIngress {
  /** Every log line the ingress wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
}

/** The real ingress (createIngress + listen, as `start` runs them) on a free local port. */
export async function startTestIngress(client: Client, over: Partial<IngressDeps> = {}): Promise<TestIngress> {
  const rawLogs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      const text = chunk.toString();
      rawLogs.push(text);
      for (const line of text.split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const recipes = loadRecipes(path.resolve(__dirname, '..', '..', 'recipes'));
  const ingress = createIngress({
    client,
    taskQueue: 'ingress-test',
    recipes: () => recipes,
    secrets: ['whsec_test_current'],
    logger: pino({ level: 'info' }, sink),
    ...over,
  });
  const listening = await listen(ingress, 0, '127.0.0.1');
  return { ...listening, logs, rawLogs };
}
