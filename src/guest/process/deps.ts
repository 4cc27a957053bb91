/**
 * What every `process.Process` RPC receives. Declared apart from service.ts, which imports each
 * RPC to register it, so no RPC module has to import its own registrar back.
 */
import type { GuestContext } from '../context.ts';
import type { ProcessFactory } from './process-factory.ts';
import type { ProcessRegistry } from './registry.ts';

export interface ProcessDeps extends GuestContext {
  registry: ProcessRegistry;
  /** The process factory (native/launcher.c) for fast process starts; absent = plain spawn. */
  processFactory?: ProcessFactory;
}
