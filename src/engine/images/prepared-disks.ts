/**
 * Disk images formatted ahead of time, so that a cold create mounts one instead of waiting
 * for mkfs (a process start and a few MiB of metadata writes: 30-300 ms of the create under
 * load, BENCHMARKS.md issue #13). A few are kept ready; each create that takes one has the next
 * made in the background shortly after.
 *
 * Isolation: every image is formatted on its own (its own filesystem UUID and hash seed) and
 * handed out once, by rename into the new sandbox's directory, so no two sandboxes ever hold the
 * same image and none gets one that was mounted before. Limits: only an image of exactly the
 * size the create asks for is used; any other size is made on the spot as before.
 *
 * Crash safety: a prepared image is a plain file, never mounted while it waits (no loop device,
 * no mount to leak). The engine removes the whole directory when it starts (whatever a crash
 * left there is not trusted: it may be half written) and when it stops.
 */
import { existsSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../fsutil.ts';
import { makeImage } from './disk.ts';

export interface PreparedDisksOptions {
  /** Where the images wait; removed whole at start and stop. */
  dir: string;
  /** The size made ahead: the engine's default disk size, which most creates ask for. */
  sizeMiB: number;
  /** How many are kept ready (0: none, every create formats its own). */
  count: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * A taken image is replaced this long after the take, not at once: mkfs started beside the
 * create that took the image competed with its mount and runsc start for the host's CPUs.
 */
const REFILL_DELAY_MS = 2000;

export class PreparedDisks {
  private readonly ready: string[] = [];
  /** Images being made; with `ready`, never more than `count`. */
  private making = 0;
  /** Images are made one after the other, so a burst of creates never starts many mkfs at once. */
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private made = 0;
  private refill?: NodeJS.Timeout;

  constructor(private readonly opts: PreparedDisksOptions) {}

  /** Removes what an earlier run left behind and starts making images. */
  async start(): Promise<void> {
    await rm(this.opts.dir, { recursive: true, force: true });
    if (this.opts.count === 0) return;
    await ensurePrivateDir(this.opts.dir);
    this.topUp();
  }

  /**
   * Moves a ready image of `sizeMiB` to `file`; false (and nothing moved) when there is none of
   * that size or `file` exists already. Synchronous: a rename in one directory tree takes
   * microseconds, and a create's mount then starts before the work it runs beside (its network).
   */
  take(file: string, sizeMiB: number): boolean {
    if (sizeMiB !== this.opts.sizeMiB || existsSync(file)) return false;
    const image = this.ready.shift();
    if (!image) return false;
    this.refill ??= setTimeout(() => {
      this.refill = undefined;
      this.topUp();
    }, REFILL_DELAY_MS).unref();
    renameSync(image, file);
    return true;
  }

  /** Stops making images, waits for the one being made and removes them all. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refill);
    await this.queue;
    this.ready.length = 0;
    await rm(this.opts.dir, { recursive: true, force: true });
  }

  /** Queues the making of as many images as are missing; a failed one is retried at the next take. */
  private topUp(): void {
    while (!this.stopped && this.ready.length + this.making < this.opts.count) {
      this.making++;
      this.queue = this.queue.then(() => this.makeOne());
    }
  }

  private async makeOne(): Promise<void> {
    try {
      if (this.stopped) return;
      const file = join(this.opts.dir, `${++this.made}.img`);
      await makeImage(file, this.opts.sizeMiB);
      this.ready.push(file);
    } catch (err) {
      this.opts.log?.('preparing a disk image failed', { err: String(err) });
    } finally {
      this.making--;
    }
  }
}
