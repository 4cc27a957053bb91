/**
 * The capacity arithmetic of a warm pool, pure (docs/architecture.md, rule “time is a parameter”:
 * no clock, no store). A pool is sized either by `size` — keep exactly that many idle, however
 * many were claimed — or by OpenSandbox's capacity {bufferMin, bufferMax, poolMin, poolMax}, with
 * the meaning of OpenSandbox's pool controller (`kubernetes/internal/controller/pool_controller.go`,
 * `scalePool`): while the idle count is within [bufferMin, bufferMax] it is left alone; outside it
 * the pool aims at the middle of the range; the total (idle + allocated) is raised to poolMin and
 * capped at poolMax, poolMax winning.
 */
import { invalidArgument } from './errors.ts';
import type { PoolCapacity, PoolSizing } from './native.ts';

/** A pool's members now: idle (started or starting, unclaimed) and allocated (claimed from it, alive). */
export interface PoolCounts { idle: number; allocated: number }

/** `size` N as a capacity: N idle at all times, no bound on the total. */
export function capacityOf(sizing: PoolSizing): PoolCapacity {
  if ('size' in sizing) return { bufferMin: sizing.size, bufferMax: sizing.size, poolMin: 0, poolMax: Number.POSITIVE_INFINITY };
  if (sizing.bufferMin > sizing.bufferMax) throw invalidArgument(`bufferMin ${sizing.bufferMin} is above bufferMax ${sizing.bufferMax}`, { bufferMin: sizing.bufferMin, bufferMax: sizing.bufferMax });
  if (sizing.poolMin > sizing.poolMax) throw invalidArgument(`poolMin ${sizing.poolMin} is above poolMax ${sizing.poolMax}`, { poolMin: sizing.poolMin, poolMax: sizing.poolMax });
  return sizing;
}

/** How many idle members the pool should have now. */
export function desiredIdle(c: PoolCapacity, n: PoolCounts): number {
  const outOfRange = n.idle < c.bufferMin || n.idle > c.bufferMax;
  const buffer = outOfRange ? Math.floor((c.bufferMin + c.bufferMax) / 2) : n.idle;
  const total = Math.min(Math.max(n.allocated + buffer, c.poolMin), c.poolMax);
  return Math.max(0, total - n.allocated);
}

/** The most members a pool keeps idle at once (with nothing allocated): what the policy's poolSize bounds. */
export function peakIdle(c: PoolCapacity): number {
  return Math.min(Math.max(c.bufferMax, c.poolMin), c.poolMax);
}
