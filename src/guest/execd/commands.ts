/**
 * execd's command table: every command started through /command (foreground or background),
 * by execd's id, with what `/command/status` and `/command/{id}/logs` report. Exited commands
 * are kept (the newest MAX_KEPT_EXITED) so a client can read how they ended.
 */
import { randomUUID } from 'node:crypto';
import type { ProcessHandle } from '../process/handle.ts';
import { execdError } from './errors.ts';

const MAX_KEPT_EXITED = 256;
/** A background command's combined output is kept up to this size; beyond it, output is dropped. */
const MAX_LOG_BYTES = 16 << 20;

export interface CommandRecord {
  id: string;
  content: string;
  handle: ProcessHandle;
  startedAt: Date;
  finishedAt?: Date;
  /** Combined stdout and stderr of a background command, in arrival order. */
  log: Buffer[];
  logBytes: number;
}

/** execd's ids: a UUID without dashes, as upstream's `init` event carries them. */
export function newExecutionId(): string {
  return randomUUID().replaceAll('-', '');
}

export class CommandStore {
  private readonly records = new Map<string, CommandRecord>();

  add(id: string, content: string, handle: ProcessHandle, background: boolean): CommandRecord {
    const rec: CommandRecord = { id, content, handle, startedAt: new Date(), log: [], logBytes: 0 };
    if (background) {
      handle.subscribe((ev) => {
        if (ev.type !== 'data' || rec.logBytes >= MAX_LOG_BYTES) return;
        const chunk = Buffer.from(ev.data.subarray(0, MAX_LOG_BYTES - rec.logBytes));
        rec.log.push(chunk);
        rec.logBytes += chunk.length;
      });
    }
    void handle.exited().then(() => {
      rec.finishedAt = new Date();
      this.prune();
    });
    this.records.set(id, rec);
    return rec;
  }

  get(id: string): CommandRecord {
    const rec = this.records.get(id);
    if (!rec) throw execdError('not_found', 'RUNTIME_ERROR', `command '${id}' does not exist (or ended long ago)`);
    return rec;
  }

  private prune(): void {
    const exited = [...this.records.values()].filter((r) => r.finishedAt);
    for (const r of exited.slice(0, Math.max(0, exited.length - MAX_KEPT_EXITED))) this.records.delete(r.id);
  }
}
