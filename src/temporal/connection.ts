import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';

type TemporalConfig = Pick<Config, 'temporalAddress' | 'TEMPORAL_NAMESPACE'>;

/**
 * A client whose connection is made lazily: the ingress starts (and answers 503) even while
 * Temporal is unreachable, and reconnects by itself when it comes back.
 */
export function createClient(config: TemporalConfig): Client {
  const connection = Connection.lazy({ address: config.temporalAddress });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporalAddress });
}
