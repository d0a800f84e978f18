import type { Analytics } from '@segment/analytics-node';

const CALLS = ['identify', 'track', 'group', 'alias', 'page', 'screen'] as const;

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
}

/**
 * Confirms Segment delivery per messageId through analytics-node's documented event emitter
 * (`identify`, `track`, … once a message is delivered; `error` with `delivery_failure`).
 *
 * The per-call callback would do the same but analytics-core holds every callback until 300 ms
 * after the call (a browser-era delay), which would put 300 ms on every Segment step; the
 * emitter fires as soon as Segment answered.
 */
export class DeliveryTracker {
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(analytics: Analytics) {
    for (const call of CALLS) {
      analytics.on(call, (ctx) => this.settle(ctx.event.messageId));
    }
    analytics.on('error', (err) => {
      if (err.code === 'delivery_failure') this.settle(err.ctx?.event.messageId, err.reason ?? new Error('delivery failed'));
    });
  }

  /** Register before sending: resolves when the message was delivered, rejects with the reason it was not. */
  wait(messageId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remove(messageId, waiter);
        reject(new Error(`no delivery confirmation within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (reason) => {
          clearTimeout(timer);
          reject(reason);
        },
      };
      this.waiters.set(messageId, [...(this.waiters.get(messageId) ?? []), waiter]);
    });
  }

  /** Messages awaiting confirmation (for tests and shutdown). */
  get pending(): number {
    return this.waiters.size;
  }

  private remove(messageId: string, waiter: Waiter) {
    const rest = (this.waiters.get(messageId) ?? []).filter((w) => w !== waiter);
    if (rest.length) this.waiters.set(messageId, rest);
    else this.waiters.delete(messageId);
  }

  private settle(messageId: string | undefined, failure?: unknown) {
    if (!messageId) return;
    const list = this.waiters.get(messageId);
    if (!list) return;
    this.waiters.delete(messageId);
    for (const w of list) {
      if (failure === undefined) w.resolve();
      else w.reject(failure);
    }
  }
}
