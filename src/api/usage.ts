/**
 * CPU% from the usage route (`GET /v1/sandboxes/{id}/usage`, SandboxUsage in native.ts): the API
 * reports CPU as the total time used since the sandbox started, so CPU% is the growth of that
 * total between two reads over the wall time between them. A pure function of two reads, shared
 * by `agentbox top` (src/cli/commands/observe.ts) and the console (src/console/usage.ts).
 */

export interface CpuRead { cpuNanos: number; atMs: number }

/** CPU use between two reads, in percent of one CPU; undefined when no time passed or the total went back (a restore). */
export function cpuPercent(before: CpuRead, after: CpuRead): number | undefined {
  const wallNanos = (after.atMs - before.atMs) * 1e6;
  const used = after.cpuNanos - before.cpuNanos;
  return wallNanos > 0 && used >= 0 ? (used / wallNanos) * 100 : undefined;
}
