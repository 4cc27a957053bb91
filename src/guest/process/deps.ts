/**
 * What every `process.Process` RPC receives. Declared apart from service.ts, which imports each
 * RPC to register it, so no RPC module has to import its own registrar back.
 */
import type { GuestContext } from '../context.ts';
import type { LauncherPool } from './launcher-pool.ts';
import type { ProcessRegistry } from './registry.ts';

export interface ProcessDeps extends GuestContext {
  registry: ProcessRegistry;
  /** Pre-started launchers for fast process starts; absent = plain spawn. */
  launchers?: LauncherPool;
}
