/**
 * The `filesystem.Filesystem` service: shared state (the polling watchers) and registration;
 * each RPC lives in its own module beside this one (docs/architecture.md, rule “one RPC per module”).
 */
import type { ConnectRouter } from '@connectrpc/connect';
import { Filesystem } from '../gen/filesystem_pb.ts';
import type { FilesystemDeps } from './deps.ts';
import { stat } from './stat.ts';
import { makeDir } from './make-dir.ts';
import { move } from './move.ts';
import { listDir } from './list-dir.ts';
import { remove } from './remove.ts';
import { watchDir } from './watch-dir.ts';
import { createWatcher, getWatcherEvents, removeWatcher } from './polling-watchers.ts';

export function registerFilesystemService(router: ConnectRouter, deps: FilesystemDeps): void {
  router.service(Filesystem, {
    stat: (req, ctx) => stat(deps, req, ctx),
    makeDir: (req, ctx) => makeDir(deps, req, ctx),
    move: (req, ctx) => move(deps, req, ctx),
    listDir: (req, ctx) => listDir(deps, req, ctx),
    remove: (req, ctx) => remove(deps, req, ctx),
    watchDir: (req, ctx) => watchDir(deps, req, ctx),
    createWatcher: (req, ctx) => createWatcher(deps, req, ctx),
    getWatcherEvents: (req) => getWatcherEvents(deps, req),
    removeWatcher: (req) => removeWatcher(deps, req),
  });
}

/** Closes every polling watcher (guest shutdown). */
export function closeWatchers(deps: FilesystemDeps): void {
  for (const w of deps.watchers.values()) w.watcher.close();
  deps.watchers.clear();
}
