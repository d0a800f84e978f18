import { Analytics } from '@segment/analytics-node';

export interface SegmentClientOptions {
  writeKey: string;
  host: string;
  /** How long a message waits for others to share its batch (ms). */
  flushIntervalMs: number;
}

/**
 * One Analytics client per worker, shared by every activity, so concurrent activities share
 * batches. Retries of 5xx/network errors are left to Temporal (maxRetries 0), where they are
 * visible in history; a 429 with Retry-After is honoured by the client itself for up to 60 s.
 */
export function createAnalytics(opts: SegmentClientOptions): Analytics {
  return new Analytics({
    writeKey: opts.writeKey,
    host: opts.host,
    flushInterval: opts.flushIntervalMs,
    maxEventsInBatch: 100,
    maxRetries: 0,
    httpRequestTimeout: 10_000,
    maxRateLimitDuration: 60,
  });
}
