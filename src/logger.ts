import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Secrets and whole payloads are never logged. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'stripe-segment'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers["stripe-signature"]', 'req.headers.authorization', '*.secret', '*.writeKey', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}
