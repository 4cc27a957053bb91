/**
 * Watches a directory (optionally its whole tree) with inotify through fs.watch, one watch per
 * directory. Node's own `recursive` option is avoided: on Linux it is a JS emulation that has
 * missed events in new subdirectories; here a created directory gets its watch at once.
 *
 * inotify tells only "rename" (appeared/vanished) and "change" (data or attributes), so events
 * are classified by comparing with the last seen stats: appeared → CREATE, vanished → REMOVE,
 * mode changed → CHMOD, size or mtime changed (or nothing visible) → WRITE. A rename shows as
 * REMOVE of the old name and CREATE of the new one.
 */
import { lstatSync, readdirSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { EventType } from '../gen/filesystem_pb.ts';

export interface RawWatchEvent {
  /** Relative to the watched root. */
  name: string;
  path: string;
  type: EventType;
  /** Present when the path still exists. */
  stats?: Stats;
}

interface Seen { mode: number; size: number; mtimeMs: number }

function tryLstat(path: string): Stats | undefined {
  try { return lstatSync(path); } catch { return undefined; }
}

export class DirWatcher {
  private readonly watches = new Map<string, FSWatcher>();
  private readonly seen = new Map<string, Seen>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly recursive: boolean,
    private readonly onEvent: (ev: RawWatchEvent) => void,
  ) {
    this.addDir(root, true);
  }

  private remember(path: string, st: Stats): void {
    this.seen.set(path, { mode: st.mode, size: st.size, mtimeMs: st.mtimeMs });
  }

  private addDir(dir: string, isRoot: boolean): void {
    if (this.closed || this.watches.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (kind, name) => {
        if (name !== null) this.handle(dir, kind, name.toString());
      });
    } catch (err) {
      if (isRoot) throw err;
      return; // vanished before we could watch it
    }
    w.on('error', () => this.dropDir(dir));
    this.watches.set(dir, w);
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { /* raced away */ }
    for (const n of names) {
      const path = join(dir, n);
      const st = tryLstat(path);
      if (!st) continue;
      this.remember(path, st);
      if (this.recursive && st.isDirectory()) this.addDir(path, false);
    }
  }

  private dropDir(dir: string): void {
    for (const [d, w] of this.watches) {
      if (d === dir || d.startsWith(dir + '/')) {
        w.close();
        this.watches.delete(d);
      }
    }
  }

  private handle(dir: string, kind: string, name: string): void {
    if (this.closed) return;
    const path = join(dir, name);
    const st = tryLstat(path);
    const before = this.seen.get(path);
    const types: EventType[] = [];
    if (!st) {
      if (!before && kind === 'change') return;
      this.seen.delete(path);
      this.dropDir(path);
      types.push(EventType.REMOVE);
    } else if (!before || kind === 'rename') {
      types.push(EventType.CREATE);
      if (this.recursive && st.isDirectory()) this.addDir(path, false);
    } else {
      // Stats are read when the event is handled, so one read may already show a later write
      // and a later chmod together: report each change it shows.
      const modeChanged = st.mode !== before.mode;
      const dataChanged = st.size !== before.size || st.mtimeMs !== before.mtimeMs;
      if (modeChanged) types.push(EventType.CHMOD);
      if (dataChanged || !modeChanged) types.push(EventType.WRITE);
    }
    if (st) this.remember(path, st);
    for (const type of types) this.onEvent({ name: relative(this.root, path), path, type, stats: st });
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
  }
}
