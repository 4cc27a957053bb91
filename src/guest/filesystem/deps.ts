/**
 * What every `filesystem.Filesystem` RPC receives. Declared apart from service.ts, which imports
 * each RPC to register it, so no RPC module has to import its own registrar back.
 */
import type { GuestContext } from '../context.ts';
import type { DirWatcher } from './watcher.ts';
import type { WireEvent } from './watch-events.ts';

export interface PollingWatcher {
  watcher: DirWatcher;
  /** Events since the last GetWatcherEvents, capped so a forgotten watcher cannot grow without bound. */
  events: WireEvent[];
}

export interface FilesystemDeps extends GuestContext {
  watchers: Map<string, PollingWatcher>;
}
