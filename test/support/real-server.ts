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
import { startServer, type ServerOptions } from '../../src/app/server.ts';
import { AgentboxError } from '../../src/api/errors.ts';
import { startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { skipOutsideCI } from './ci.ts';
import { networkIndex, testSubnet } from './test-network.ts';
import { testServer, type TestServer } from './fake-server.ts';

export interface RealServer extends TestServer { created: TestEngine }

/**
 * The server, or why it cannot run here: the one skip is a host where the requested runtime
 * class is not available (the engine says so with code `unavailable`), and only outside CI.
 * Any other start-up error (nftables, the guest bundle, a bug) is thrown: a failure, not a skip.
 */
export async function startRealServer(name: string, opts: Partial<ServerOptions> & { runtime?: 'runc' | 'gvisor'; wideSubnet?: boolean; templates?: CreateEngineOptions['templates'] } = {}): Promise<RealServer | string> {
  const runtime = opts.runtime ?? 'runc';
  let created: TestEngine;
  try {
    created = await startTestEngine(`server-${name}`, {
      defaultRuntime: runtime,
      ...(opts.wideSubnet ? { network: { subnet: testSubnet(networkIndex(`server-${name}`), 22) } } : {}),
      ...(opts.templates ? { templates: opts.templates } : {}),
    });
  } catch (err) {
    if (!(err instanceof AgentboxError && err.code === 'unavailable' && err.message.startsWith(`runtime class '${runtime}' is not available`))) throw err;
    return skipOutsideCI(`the ${runtime} runtime cannot run here: ${err.message}`, 'run ./scripts/setup.sh as root');
  }
  const home = mkdtempSync(join(tmpdir(), `agentbox-srv-${name}-`));
  const server = await startServer({
    home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates, created.engine), defaultRuntime: runtime,
    log: () => {}, lifecycleMaxSleepMs: 200, poolRetryMs: 1000, ...opts,
  });
  return {
    ...testServer(server, home, async () => {
      await created.cleanup();
      rmSync(home, { recursive: true, force: true });
    }),
    created,
  };
}
