/**
 * The HTTP side of the server, shared by both composition roots: the façades over whichever
 * backend they are given (`startServer` on one machine, `startKubernetesServer` on a cluster),
 * and the admin key file. Kept apart from server.ts so the cluster's root loads no SQLite store.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { AgentboxError } from '../api/errors.ts';
import { VERSION } from '../api/version.ts';
import { consoleFiles } from '../gateway/console.ts';
import { createE2bFacade } from '../gateway/e2b/index.ts';
import type { Metrics } from '../gateway/metrics.ts';
import { nativeHandlers } from '../gateway/native.ts';
import { createOpenSandboxFacade } from '../gateway/opensandbox/index.ts';
import { PortProxy } from '../gateway/proxy.ts';
import { createGateway } from '../gateway/server.ts';
import { writeFileAtomic } from '../server/atomic-file.ts';
import { DEFAULT_TENANT } from '../server/auth-store.ts';
import type { AccountOps, SandboxBackend } from '../server/backend.ts';
import type { ServerOptions } from './server.ts';

/** What the HTTP side of the server takes from either backend (listenGateway). */
export type GatewayOptions = Pick<ServerOptions, 'host' | 'port' | 'domain' | 'tls' | 'maxFileBytes' | 'maxExecOutputBytes' | 'limits'>;

export interface ListeningGateway { url: string; port: number; proxy: PortProxy; close(): Promise<void> }

/**
 * The façades (`/v1`, E2B, OpenSandbox, the port proxy) and the web console (`/ui`) over a backend, listening: the one HTTP wiring that
 * `startServer` (one machine) and `startKubernetesServer` (a cluster) share.
 */
export async function listenGateway(o: GatewayOptions, d: {
  backend: SandboxBackend; metrics: Metrics; now: () => number; sandboxByGuestToken: (token: string) => string | undefined;
  sandboxWhereGuestToken: (matches: (token: string) => boolean) => string | undefined;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<ListeningGateway> {
  const { backend } = d;
  const proxy = new PortProxy(backend.sandboxes, o.limits?.proxyIdleTimeoutMs);
  const e2b = createE2bFacade({ backend, proxy, now: d.now, sandboxByGuestToken: d.sandboxByGuestToken, sandboxWhereGuestToken: d.sandboxWhereGuestToken, ...(o.domain ? { domain: o.domain } : {}) });
  const server = createGateway({
    backend, proxy, metrics: d.metrics, domain: o.domain, version: VERSION, log: d.log, e2b, console: consoleFiles(), openSandbox: createOpenSandboxFacade({ backend, proxy, now: d.now }), ...(o.tls ? { tls: o.tls } : {}),
    ...(o.maxFileBytes !== undefined ? { maxFileBytes: o.maxFileBytes } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    handlers: nativeHandlers({ backend, ...(o.maxExecOutputBytes !== undefined ? { maxExecOutputBytes: o.maxExecOutputBytes } : {}) }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 7420, o.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${addr.port}`, port: addr.port, proxy,
    async close() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      proxy.close();
    },
  };
}

/**
 * The admin key of the default tenant, kept in `admin.key` (0600). Reused while the database
 * still knows it; otherwise a new one is made and the file replaced atomically (write, fsync,
 * rename), so a crash never leaves a half-written key.
 */
export async function ensureAdminKey(auth: Pick<SandboxBackend, 'authenticate'> & { createKey: AccountOps['createKey'] }, path: string): Promise<string> {
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    try {
      if (auth.authenticate(key).admin) return key;
    } catch (err) {
      if (!(err instanceof AgentboxError) || err.code !== 'unauthenticated') throw err;
    }
  }
  const created = await auth.createKey({ tenant: DEFAULT_TENANT, name: 'admin', admin: true });
  writeFileAtomic(path, `${created.key}\n`);
  return created.key;
}
