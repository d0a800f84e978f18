import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Every remote activity heartbeats while it runs, so that when a worker dies (SIGKILL, OOM, a
 * lost machine) the server notices within the activity's heartbeatTimeout and retries it on
 * another worker, instead of waiting out the whole startToCloseTimeout. The SDK throttles the
 * calls to the server; local activities run inside a workflow task and need none.
 */
export function heartbeatInterceptor(everyMs = 1000): ActivityInterceptorsFactory {
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.isLocal) return next(input);
        const timer = setInterval(() => ctx.heartbeat(), everyMs);
        try {
          return await next(input);
        } finally {
          clearInterval(timer);
        }
      },
    },
  });
}
