/**
 * execd's listener beside envd's (one guest process, two protocols): it opens the port at start
 * but loads the routes (router.ts and the handlers) only on the first request, so a sandbox that
 * is only driven through envd does not keep them in memory (issue 13, the guest's idle memory).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProcessDeps } from '../process/deps.ts';
import type { ExecdHandler } from './router.ts';

export interface ExecdListener {
  port: number;
  close(): Promise<void>;
}

export interface ExecdListenOptions {
  port: number;
  host: string;
  idleTimeoutMs: number;
  deps: ProcessDeps;
  codeInterpreterUrl: string;
}

export async function listenExecd(o: ExecdListenOptions): Promise<ExecdListener> {
  let handler: Promise<ExecdHandler> | undefined;
  const load = () => (handler ??= import('./router.ts').then((m) => m.createExecdHandler(o.deps, o.codeInterpreterUrl)));
  const server: Server = createServer({ keepAliveTimeout: o.idleTimeoutMs, requestTimeout: 0 }, (req, res) => {
    void load().then((h) => h(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
