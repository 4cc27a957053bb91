/**
 * Pause and resume. What every runtime class shares lives here: a filesystem-only pause stops
 * the sandbox, and resuming it (or discarding kept memory) boots it again from its writable
 * layer. Keeping memory is the runtime class's pause strategy (pause/strategy.ts).
 */
import { conflict } from '../api/errors.ts';
import { removeDisk } from './images/disk.ts';
import { boot } from './lifecycle.ts';
import { pauseStrategy } from './pause/strategies.ts';
import { publicState, type SandboxTable } from './sandbox-table.ts';
import type { PauseOptions, SandboxInfo } from './types.ts';

export async function pause(t: SandboxTable, id: string, opts: PauseOptions = {}): Promise<SandboxInfo> {
  return t.serialized(id, async () => {
    const r = t.record(id);
    t.requireRunning(r, 'pause');
    const driver = t.driver(r.runtime);
    if (opts.memory === false) {
      // Filesystem only: the writable layer is on disk already; stopping is all there is.
      t.pids.delete(id);
      t.dropGuest(id);
      await driver.delete(id);
      await t.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: false });
      return t.info(r);
    }
    await pauseStrategy(driver).pause(t, r);
    return t.info(r);
  });
}

export async function resume(t: SandboxTable, id: string, opts: PauseOptions = {}): Promise<SandboxInfo> {
  return t.serialized(id, async () => {
    const r = t.record(id);
    if (r.state !== 'paused') throw conflict(`sandbox ${id} is ${publicState(r.state)}; only a paused sandbox can be resumed`, { state: publicState(r.state) });
    const driver = t.driver(r.runtime);
    if (opts.memory === false && r.pausedWithMemory !== false) {
      // Discard what the pause kept (a frozen container, or checkpoint images) and boot cold.
      await driver.delete(id);
      await removeDisk(t.checkpointDisk(r));
      await t.setState(r, 'paused', { pausedWithMemory: false });
    }
    if (r.pausedWithMemory === false) return boot(t, r);
    await pauseStrategy(driver).resume(t, r);
    return t.info(r);
  });
}
