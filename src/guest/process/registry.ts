/**
 * The process service's shared state (docs/architecture.md, rule “one RPC per module”: one RPC per module, state here): live processes
 * by pid and tag, plus the ends of recently exited ones so a late Connect still gets its `end`.
 */
import { AgentboxError } from '../../api/errors.ts';
import type { ProcessHandle } from './handle.ts';

/** How long and how many exited processes stay attachable. */
const RETAIN_EXITED_MS = 5 * 60_000;
const RETAIN_EXITED_MAX = 256;

export interface Selector {
  pid?: number;
  tag?: string;
}

export class ProcessRegistry {
  private readonly live = new Map<number, ProcessHandle>();
  private readonly exited = new Map<number, { handle: ProcessHandle; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(handle: ProcessHandle): void {
    this.live.set(handle.pid, handle);
    void handle.exited().then(() => {
      this.live.delete(handle.pid);
      this.exited.set(handle.pid, { handle, at: this.now() });
      this.prune();
    });
  }

  running(): ProcessHandle[] {
    return [...this.live.values()];
  }

  /** A live process, else a recently exited one, else not_found. */
  find(sel: Selector): ProcessHandle {
    this.prune();
    const match = (h: ProcessHandle) => (sel.pid !== undefined ? h.pid === sel.pid : sel.tag !== undefined && h.tag === sel.tag);
    for (const h of this.live.values()) if (match(h)) return h;
    for (const { handle } of [...this.exited.values()].reverse()) if (match(handle)) return handle;
    const what = sel.pid !== undefined ? `pid ${sel.pid}` : `tag '${sel.tag ?? ''}'`;
    throw new AgentboxError('not_found', `process with ${what} not found`);
  }

  /** Like find, but the process must still run. */
  findRunning(sel: Selector): ProcessHandle {
    const h = this.find(sel);
    if (h.end) throw new AgentboxError('not_found', `process ${h.pid} has already exited`);
    return h;
  }

  private prune(): void {
    const cutoff = this.now() - RETAIN_EXITED_MS;
    for (const [pid, e] of this.exited) {
      if (e.at < cutoff || this.exited.size > RETAIN_EXITED_MAX) this.exited.delete(pid);
    }
  }
}
