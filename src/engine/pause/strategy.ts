/**
 * How a runtime class keeps a paused sandbox's memory and processes (types.ts PauseMode): one
 * sibling module per mode (checkpoint.ts, freeze.ts), chosen by the runtime class's declared
 * mode (strategies.ts). pause-resume.ts does what is common to every class (filesystem-only
 * pause, cold resume) and hands the rest to the strategy.
 */
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { EngineRecord } from '../sandbox-record.ts';
import type { SandboxTable } from '../sandbox-table.ts';

export interface PauseStrategy {
  /**
   * Pauses running sandbox `r` keeping its memory and processes and records it `paused`. On
   * failure the record says what became of the sandbox (still running, or failed) before the
   * error is thrown.
   */
  pause(t: SandboxTable, r: EngineRecord): Promise<void>;
  /** Resumes a sandbox this strategy paused, records it `running` and waits until it is ready. */
  resume(t: SandboxTable, r: EngineRecord): Promise<void>;
  /** Makes a container this strategy paused removable, before teardown deletes it. */
  release(driver: RuntimeDriver, id: string): Promise<void>;
}
