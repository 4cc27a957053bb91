/**
 * A real engine for integration tests: real runsc/runc, real overlay mounts, network
 * namespaces and nftables. Each test file gets its own home and network (subnet, interface
 * prefix, nftables table, DNS port; see test/support/test-network.ts), so files run in parallel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createEngine, type CreatedEngine, type CreateEngineOptions } from '../../src/engine/index.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';

export interface TestEngine extends CreatedEngine {
  /** Destroys every sandbox, removes the nftables table and the home. */
  cleanup(): Promise<void>;
}

export async function startTestEngine(name: string, opts: Partial<CreateEngineOptions> = {}): Promise<TestEngine> {
  const n = networkIndex(name);
  const home = opts.home ?? await mkdtemp(join(tmpdir(), `agentbox-${name}-`));
  const created = await createEngine({
    // Tests judge behaviour, not speed: a guest that boots slowly on a loaded 2-core machine
    // (100 concurrent creates, say) is not a failure.
    readyTimeoutMs: 60_000,
    ...opts,
    home,
    network: { ...testNetwork(n), ...opts.network },
  });
  return {
    ...created,
    async cleanup() {
      for (const s of created.engine.list()) await created.engine.destroy(s.id).catch(() => undefined);
      await created.engine.close();
      const { runCommand } = await import('../../src/engine/command.ts');
      await runCommand('nft', ['delete', 'table', 'inet', testNetwork(n).table]).catch(() => undefined);
      for (const d of created.drivers.values()) await d.releaseStateDir();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Destroys the sandbox when the test ends, passed or failed: a failure must not leak it into later tests. */
export function destroyAfter(ctx: TestContext, engine: CreatedEngine['engine'], id: string): void {
  ctx.after(() => engine.destroy(id).catch(() => undefined));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a shell line in a sandbox through the guest and returns trimmed stdout (throws on non-zero exit). */
export async function sh(engine: CreatedEngine['engine'], id: string, line: string, user?: string): Promise<string> {
  const res = await engine.exec(id, { cmd: ['/bin/sh', '-c', line], user });
  if (res.exitCode !== 0) throw new Error(`'${line}' exited ${res.exitCode}: ${res.stderr}`);
  return res.stdout.trim();
}
