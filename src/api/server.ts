import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ingress } from './app';

export interface ListeningIngress {
  url: string;
  server: Server;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish and answer, close idle
   * keep-alive sockets, then wait for Temporal calls the ingress had stopped waiting for.
   */
  close(): Promise<void>;
}

/** The ingress could not bind its port; the message says what to change. */
export class ListenError extends Error {}

export function listen(ingress: Ingress, port: number, host: string): Promise<ListeningIngress> {
  return new Promise((resolve, reject) => {
    // Express 5 calls this back on 'listening' and on 'error' alike.
    const server = ingress.app.listen(port, host, (err?: Error) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'EADDRINUSE' ? `port ${port} on ${host} is in use; set PORT to a free one` : err.message;
        return reject(new ListenError(`The ingress cannot listen: ${why}.`));
      }
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        url: `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actual}`,
        server,
        async close() {
          await new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          });
          await ingress.drain();
        },
      });
    });
    server.once('error', reject);
  });
}
