/**
 * The real server over the REAL engine (runc/gVisor, overlay, netns, nftables) for e2e tests.
 * Each file gets its own engine home, subnet and nftables table through the engine's own test
 * fixture (test/engine/fixture.ts), so e2e files can run beside the engine's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateEngineOptions } from '../../src/engine/index.ts';
import { engineCatalog } from '../../src/server/engine-catalog.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.ts';
import { startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { networkIndex, testSubnet } from './test-network.ts';
import { apiCaller, type AnyResponse, type ApiInit } from './fake-server.ts';

export interface RealServer {
  server: RunningServer;
  created: TestEngine;
  home: string;
  api(path: string, init?: ApiInit): Promise<AnyResponse>;
  stop(): Promise<void>;
}

/** Undefined (with the reason) when this host cannot run the runtime: the caller skips. */
export async function startRealServer(name: string, opts: Partial<ServerOptions> & { runtime?: 'runc' | 'gvisor'; wideSubnet?: boolean; templates?: CreateEngineOptions['templates'] } = {}): Promise<RealServer | string> {
  let created: TestEngine;
  try {
    created = await startTestEngine(`server-${name}`, {
      defaultRuntime: opts.runtime ?? 'runc',
      ...(opts.wideSubnet ? { network: { subnet: testSubnet(networkIndex(`server-${name}`), 22) } } : {}),
      ...(opts.templates ? { templates: opts.templates } : {}),
    });
  } catch (err) {
    return `the real engine cannot start here: ${(err as Error).message}`;
  }
  const home = mkdtempSync(join(tmpdir(), `agentbox-srv-${name}-`));
  const server = await startServer({
    home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates), defaultRuntime: opts.runtime ?? 'runc',
    log: () => {}, lifecycleMaxSleepMs: 200, poolRetryMs: 1000, ...opts,
  });
  return {
    server, created, home,
    api: apiCaller(server),
    async stop() {
      await server.close();
      await created.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
