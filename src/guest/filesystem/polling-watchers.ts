/** CreateWatcher / GetWatcherEvents / RemoveWatcher: the polling form of WatchDir. */
import { randomUUID } from 'node:crypto';
import type { HandlerContext } from '@connectrpc/connect';
import { AgentboxError } from '../../api/errors.ts';
import type { CreateWatcherRequest, GetWatcherEventsRequest, RemoveWatcherRequest } from '../gen/filesystem_pb.ts';
import { startWatch, watchSpec } from './watch-events.ts';
import type { FilesystemDeps, PollingWatcher } from './deps.ts';

/** Events kept per watcher between polls; older ones are dropped first. */
const MAX_PENDING_EVENTS = 10_000;

export async function createWatcher(deps: FilesystemDeps, req: CreateWatcherRequest, ctx: HandlerContext) {
  const spec = watchSpec(deps, req, ctx);
  const events: PollingWatcher['events'] = [];
  const watcher = startWatch(spec, deps.users, (ev) => {
    events.push(ev);
    if (events.length > MAX_PENDING_EVENTS) events.shift();
  });
  const watcherId = randomUUID();
  deps.watchers.set(watcherId, { watcher, events });
  return { watcherId };
}

function find(deps: FilesystemDeps, id: string): PollingWatcher {
  const w = deps.watchers.get(id);
  if (!w) throw new AgentboxError('not_found', `watcher '${id}' does not exist; create one with CreateWatcher`);
  return w;
}

export async function getWatcherEvents(deps: FilesystemDeps, req: GetWatcherEventsRequest) {
  return { events: find(deps, req.watcherId).events.splice(0) };
}

export async function removeWatcher(deps: FilesystemDeps, req: RemoveWatcherRequest) {
  find(deps, req.watcherId).watcher.close();
  deps.watchers.delete(req.watcherId);
  return {};
}
