/**
 * The guest daemon (bundled to guest-code.js, which the bundle's entry runs; code-cache.ts). Runs
 * as the sandbox's init behind tini, which reaps orphans: Node only waits for its own children.
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { loadGuestConfig } from './config.ts';
import { createGuestLog } from './log.ts';
import { startGuestServer } from './server.ts';
import { runStartCommand, StartCommandReport } from './start-command.ts';
import { startAgentSandboxRuntimeIfConfigured } from './agent-sandbox.ts';
import { confinePids } from './pids-limit.ts';

async function main(): Promise<void> {
  // Set for the guest's own malloc (src/engine/bundle.ts), which read it at start; the programs
  // the guest starts, some with its environment (agent-sandbox-runtime), keep glibc's default.
  delete process.env.MALLOC_ARENA_MAX;
  // V8 frees the memory of dead ArrayBuffers on a background thread after each scavenge, and
  // counts it as the heap's external memory until then. Under gVisor that thread fell behind a
  // command's output (several buffers a frame), the count kept crossing V8's limit and each
  // 64 MiB of output set off about 20 full collections; freed in the scavenge itself, about 2,
  // and the stream took half the time (BENCHMARKS.md, twenty-fifth round).
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  const log = createGuestLog();
  const path = process.env.AGENTBOX_GUEST_CONFIG;
  if (!path) {
    log.error('AGENTBOX_GUEST_CONFIG is not set; it must name the guest config JSON file');
    process.exit(2);
  }
  const config = loadGuestConfig(path);
  // Children started as another user inherit the guest's supplementary groups when the
  // spawner does not reset them (node-pty's forkpty child calls only setgid/setuid), so the
  // root guest drops its own: a PTY shell of `user` must not keep root's group 0.
  if (process.getuid?.() === 0) process.setgroups?.([]);
  if (config.pidsLimit !== undefined) confinePids(config.pidsLimit, log);
  // libuv starts its thread pool on the first asynchronous file operation and aborts the process
  // when it cannot create those threads: a workload at its pids limit would take the guest down
  // with it. Started now, inside the sandbox's pids cgroup, the pool's threads count against the
  // limit like the guest's others, and the guest keeps serving a sandbox at its limit.
  await stat('/');
  // In the bundle the launcher sits beside guest-code.js in bin/; run from source there is none.
  const launcherPath = fileURLToPath(new URL('./bin/agentbox-launcher', import.meta.url));
  const startCommand = config.start ? new StartCommandReport() : undefined;
  const server = await startGuestServer(config, { log, launcherPath, startCommand });
  if (config.start && startCommand) await runStartCommand({ ...server.context, registry: server.registry }, config.start, startCommand);
  await startAgentSandboxRuntimeIfConfigured(config, log);
  const stop = (signal: string) => {
    log.info('guest stopping', { signal });
    // Processes run in their own sessions, out of reach of tini's group signal: pass it on.
    for (const h of server.registry.running()) h.driver.kill('SIGTERM');
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Settles once the guest serves and its start command runs (the bundle's code cache is written then). */
export const started = main().catch((err) => {
  process.stderr.write(`guest failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
