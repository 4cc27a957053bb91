/**
 * Golden snapshots: for each template (and the limits a sandbox of it runs with), a checkpoint
 * of one freshly booted, idle sandbox, so that later creates of the same kind restore it instead
 * of booting (golden-boot.ts). This module keeps them on disk: which exist, which one a create
 * may use, the one build at a time, and the bound on how many are kept.
 *
 * Layout: `<home>/golden/<key>/` is a snapshot directory (snapshots.ts: images, the builder's
 * writable layer, `sandbox.json`, and `manifest.json` written last), made under a temporary name
 * and renamed into place, so a directory under its key is always complete. It is sealed by size
 * only, like a pause's checkpoint: it never leaves this host and only this engine writes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError } from '../api/errors.ts';
import { ensurePrivateDir } from './fsutil.ts';
import type { EngineRecord } from './sandbox-record.ts';
import { MANIFEST, type SnapshotManifest } from './snapshots.ts';

/** How many golden snapshots are kept; the least recently used goes first. */
export const DEFAULT_MAX_GOLDEN = 8;
/**
 * After this many failures of one kind (a build that failed, a snapshot that did not restore),
 * its creates boot until the engine restarts: a host where it cannot work pays no extra
 * background boot per create.
 */
const MAX_FAILURES = 2;
/** The name of a complete golden snapshot's directory: its key. */
export const GOLDEN_KEY_RE = /^[0-9a-f]{32}$/;

/** What a sandbox's memory depends on, so two sandboxes with the same key may share a golden snapshot. */
export type GoldenInputs = Pick<EngineRecord, 'templateBuildId' | 'layers' | 'runtime' | 'runtimeSha256' | 'imageConfig'> & {
  limits: Pick<EngineRecord['limits'], 'cpu' | 'memoryMiB' | 'pids'>;
  /** The guest bundle's directory (its name is the bundle's hash): a new guest means a new snapshot. */
  guest: string;
};

export function goldenKey(r: GoldenInputs): string {
  const { templateBuildId, layers, runtime, runtimeSha256, imageConfig, guest } = r;
  const limits = { cpu: r.limits.cpu, memoryMiB: r.limits.memoryMiB, pids: r.limits.pids };
  const json = JSON.stringify({ templateBuildId, layers, runtime, runtimeSha256, imageConfig, guest, limits });
  return createHash('sha256').update(json).digest('hex').slice(0, 32);
}

export class GoldenSnapshots {
  /** Complete snapshots by key, in order of last use (oldest first). */
  private readonly ready = new Map<string, string>();
  private building?: { key: string; done: Promise<unknown> };
  private readonly failures = new Map<string, number>();
  /** Aborted by close: a build waiting on it stops, and is neither published nor counted as failed. */
  private readonly closing = new AbortController();

  constructor(readonly dir: string, private readonly opts: { max: number; log: (msg: string, fields?: Record<string, unknown>) => void }) {}

  /**
   * Adopts the snapshots a previous run left, dropping unfinished ones and those taken by a
   * runtime binary this engine no longer runs.
   */
  async init(runtimeSha256s: Set<string>): Promise<void> {
    await ensurePrivateDir(this.dir);
    for (const name of await readdir(this.dir)) {
      const dir = join(this.dir, name);
      const sha = GOLDEN_KEY_RE.test(name) ? await manifestRuntime(dir) : undefined;
      if (sha && runtimeSha256s.has(sha)) this.ready.set(name, dir);
      else await rm(dir, { recursive: true, force: true });
    }
    await this.evict();
  }

  /** Whether a complete golden snapshot for `key` exists; unlike `take`, not a use. */
  has(key: string): boolean {
    return this.ready.has(key);
  }

  /** The directory of the golden snapshot for `key`, marked as just used; undefined if there is none. */
  take(key: string): string | undefined {
    const dir = this.ready.get(key);
    if (dir === undefined) return undefined;
    this.ready.delete(key);
    this.ready.set(key, dir);
    return dir;
  }

  /** Forgets and deletes the snapshot for `key` (it failed to restore). */
  async discard(key: string): Promise<void> {
    const dir = this.ready.get(key);
    if (dir === undefined) return;
    this.ready.delete(key);
    this.failed(key);
    await rm(dir, { recursive: true, force: true });
  }

  private failed(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    if (n === MAX_FAILURES) this.opts.log('golden snapshots of this kind failed twice; its creates boot until the engine restarts', { key });
  }

  /**
   * Starts `build` for `key` unless a snapshot exists or any build runs: one at a time, so a
   * stream of creates with ever new limits costs at most one background boot at a time, and a
   * key that lost the race is built on a later create. `build` fills the directory it is given,
   * and stops its waits when `closing` aborts. Returns, when it started one, the build's end: what
   * it failed with, or undefined once made.
   */
  requestBuild(key: string, build: (dir: string, closing: AbortSignal) => Promise<void>): Promise<unknown> | undefined {
    if (this.closed || this.ready.has(key) || this.building || (this.failures.get(key) ?? 0) >= MAX_FAILURES) return undefined;
    // Made before this returns and renamed or removed only once the builder is gone: while a
    // `<key>.tmp` directory exists, a build (and its hidden builder sandbox) is in progress.
    const tmp = join(this.dir, `${key}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o700 });
    const done = (async (): Promise<unknown> => {
      try {
        await build(tmp, this.closing.signal);
        const dir = join(this.dir, key);
        // In one step with the rename: a snapshot on disk under its key is one a create takes.
        renameSync(tmp, dir);
        this.ready.set(key, dir);
        await this.evict();
        return undefined;
      } catch (err) {
        if (!this.closed) {
          this.opts.log('golden snapshot not made; creates of this kind boot from scratch', { key, err: String(err) });
          this.failed(key);
        }
        await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        return err;
      } finally {
        this.building = undefined;
      }
    })();
    this.building = { key, done };
    return done;
  }

  /** Waits for the build in progress, if any. */
  async idle(): Promise<void> {
    await this.building?.done;
  }

  /** Whether close was called: a build that ended since did not fail. */
  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Stops the build in progress at its next wait (its builder settling, golden-boot.ts) and starts no other. */
  async close(): Promise<void> {
    this.closing.abort(new AgentboxError('unavailable', 'the engine is closing'));
    await this.idle();
  }

  private async evict(): Promise<void> {
    for (const [key, dir] of this.ready) {
      if (this.ready.size <= this.opts.max) return;
      this.ready.delete(key);
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The runtime binary a complete snapshot directory was taken by; undefined when incomplete. */
async function manifestRuntime(dir: string): Promise<string | undefined> {
  if (!existsSync(join(dir, MANIFEST))) return undefined;
  try {
    return (JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as SnapshotManifest).runtime.sha256;
  } catch {
    return undefined;
  }
}
