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

export function listen(ingress: Ingress, port: number, host: string): Promise<ListeningIngress> {
  return new Promise((resolve, reject) => {
    const server = ingress.app.listen(port, host, () => {
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
