/**
 * execd's listener beside envd's (one guest process, two protocols). The routes are imported
 * statically: measured on the bundled guest (issue 13, the guest's idle memory), a dynamic
 * import() made the bundle 63 KB larger (esbuild wraps every module it reaches for lazy init)
 * and the idle guest 0.5 MiB bigger than loading them up front, which costs ~0.3 MiB of RSS.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProcessDeps } from '../process/deps.ts';
import { createStreamingServer } from '../http/writes-per-turn.ts';
import { createExecdHandler } from './router.ts';

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
  envFile?: string;
}

export async function listenExecd(o: ExecdListenOptions): Promise<ExecdListener> {
  const handler = createExecdHandler(o.deps, o.codeInterpreterUrl, o.envFile);
  const server: Server = createStreamingServer(o.idleTimeoutMs, handler.request);
  server.on('upgrade', handler.upgrade);
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
