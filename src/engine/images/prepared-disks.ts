/**
 * Sandbox directories whose disk is formatted and mounted ahead of time, so that a cold create
 * takes one by a rename instead of waiting for mkfs (a process start and a few MiB of metadata
 * writes: 30-300 ms of the create under load) and for mount(8) with its loop device (17-22 ms
 * of a golden create on two busy cores; BENCHMARKS.md, issue #13). A few are kept ready; each
 * create that takes one has the next made in the background shortly after.
 *
 * A ready entry is laid out as a sandbox directory (`diskIn`): its image mounted where a
 * sandbox's disk is, on a loop device already switched to direct I/O. Renaming the entry to the
 * sandbox's directory carries the mount along (a mount follows its mount point's dentry, and only
 * a mount point itself refuses a rename), and the loop device's backing file then reads the new
 * path, so the sandbox's teardown detaches it like any other disk.
 *
 * Isolation: every image is formatted on its own (its own filesystem UUID and hash seed), mounted
 * by the host only, and handed out once, so no two sandboxes ever hold the same image and none
 * gets one a sandbox has used. Limits: only an entry of exactly the size the create asks for is
 * used; any other size is made on the spot.
 *
 * Crash safety: the engine unmounts and removes the whole directory when it starts (whatever a
 * crash left there is not trusted: it may be half made) and when it stops. An entry renamed into
 * a sandbox whose record was not written yet is an unfinished sandbox to recovery, which detaches
 * its disk.
 */
import { existsSync, renameSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../fsutil.ts';
import { attachDisk, detachDisk, sweepOrphanLoops, type DiskImage } from './disk.ts';

export interface PreparedDisksOptions {
  /** Where the entries wait; unmounted and removed whole at start and stop. */
  dir: string;
  /** The size made ahead: the engine's default disk size, which most creates ask for. */
  sizeMiB: number;
  /** How many are kept ready (0: none, every create formats and mounts its own). */
  count: number;
  /** Where a sandbox directory holds its disk image and mounts it (../bundle.ts sandboxPaths). */
  diskIn: (sandboxDir: string) => Pick<DiskImage, 'file' | 'mount'>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * A taken entry is replaced this long after the take, not at once: mkfs and mount started beside
 * the create that took the entry competed with its runsc start for the host's CPUs.
 */
const REFILL_DELAY_MS = 2000;

export class PreparedDisks {
  private readonly ready: string[] = [];
  /** Entries being made; with `ready`, never more than `count`. */
  private making = 0;
  /** Entries are made one after the other, so a burst of creates never starts many mkfs at once. */
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private made = 0;
  private refill?: NodeJS.Timeout;

  constructor(private readonly opts: PreparedDisksOptions) {}

  /** How many entries wait, ready to be taken. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Removes what an earlier run left behind and starts making entries. */
  async start(): Promise<void> {
    await this.removeAll();
    if (this.opts.count === 0) return;
    await ensurePrivateDir(this.opts.dir);
    this.topUp();
  }

  /**
   * Moves a ready entry of `sizeMiB` to `sandboxDir`, its disk mounted; false (and nothing moved)
   * when there is none of that size, `sandboxDir` exists already or the rename fails (the entry is
   * then discarded, and the create makes its own disk). Synchronous: a rename in one
   * directory tree takes microseconds, and the create's record is written into it at once.
   */
  take(sandboxDir: string, sizeMiB: number): boolean {
    if (sizeMiB !== this.opts.sizeMiB || existsSync(sandboxDir)) return false;
    const entry = this.ready.shift();
    if (!entry) return false;
    this.refill ??= setTimeout(() => {
      this.refill = undefined;
      this.topUp();
    }, REFILL_DELAY_MS).unref();
    try {
      renameSync(entry, sandboxDir);
    } catch (err) {
      // The create makes its own disk instead; this entry is not handed out again.
      this.opts.log?.('a prepared disk could not be taken', { entry, err: String(err) });
      void this.discard(entry);
      return false;
    }
    return true;
  }

  /** Stops making entries, waits for the one being made and unmounts and removes them all. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refill);
    await this.queue;
    this.ready.length = 0;
    await this.removeAll();
  }

  /** Queues the making of as many entries as are missing; a failed one is retried at the next take. */
  private topUp(): void {
    while (!this.stopped && this.ready.length + this.making < this.opts.count) {
      this.making++;
      this.queue = this.queue.then(() => this.makeOne());
    }
  }

  private async makeOne(): Promise<void> {
    if (this.stopped) {
      this.making--;
      return;
    }
    const entry = join(this.opts.dir, String(++this.made));
    try {
      await mkdir(entry);
      await attachDisk({ ...this.opts.diskIn(entry), sizeMiB: this.opts.sizeMiB }, { create: true });
      this.ready.push(entry);
    } catch (err) {
      this.opts.log?.('preparing a disk failed', { err: String(err) });
      await this.discard(entry);
    } finally {
      this.making--;
    }
  }

  /** Unmounts and removes one entry; never throws (stop and start remove whatever is left). */
  private async discard(entry: string): Promise<void> {
    await detachDisk(this.opts.diskIn(entry)).catch(() => undefined);
    await rm(entry, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Every loop device whose image is in `dir` is this pool's (or a crashed run's): unmounted first, so removing the tree never reaches into a mounted disk. */
  private async removeAll(): Promise<void> {
    await sweepOrphanLoops(this.opts.dir, () => false);
    await rm(this.opts.dir, { recursive: true, force: true });
  }
}
