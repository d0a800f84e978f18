import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry with the Node process metrics: one per process, served at GET /metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stripe_segment_' });
  return registry;
}

/** The ingress's Prometheus metrics. */
export function createIngressMetrics(registry: Registry = createRegistry()) {
  return {
    registry,
    requests: new Counter({
      name: 'stripe_segment_http_requests_total',
      help: 'HTTP requests by route, status and outcome (started, duplicate, ignored_*, or the error code)',
      labelNames: ['route', 'status', 'outcome'] as const,
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'stripe_segment_webhook_ack_seconds',
      help: 'Time from receiving a webhook to answering it, for events answered 2xx',
      labelNames: ['route'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    workflowStarts: new Counter({
      name: 'stripe_segment_workflow_starts_total',
      help: 'Workflows started for Stripe events, by event type',
      labelNames: ['event_type'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'stripe_segment_duplicate_deliveries_total',
      help: 'Deliveries of events whose workflow already existed (Stripe retries, concurrent deliveries)',
      labelNames: ['event_type'] as const,
      registers: [registry],
    }),
  };
}

export type IngressMetrics = ReturnType<typeof createIngressMetrics>;
