// The runsc a node runs, as its SandboxConfig says (issue #14 item 7; the operator's
// src/k8s/runtime/controller.ts tells each node agent which one). `<dir>/runsc` is a symlink, and
// the runsc wrapper (wrapper.ts) runs it as its real binary: it points at the binary the agent was
// started with until a SandboxConfig names one, then at `sha256/<hex>/runsc` under `<dir>`,
// content-addressed, so a binary verified once is never rewritten. Switching is a rename of the
// link: every runsc call runs one whole binary or the other. Old binaries stay, so a snapshot
// taken by one (its manifest pins the binary, manifest.ts) restores again once it is back.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AgentboxError } from '../../api/errors.ts';
import type { RuntimeInstallRequest, RuntimeState } from '../../api/k8s/node-agent.ts';
import { sha256OfFile } from './manifest.ts';

const run = promisify(execFile);

/** A runsc release is about 60 MiB; anything far larger is not one. */
const DEFAULT_MAX_BYTES = 512 << 20;
const FETCH_TIMEOUT_MS = 10 * 60_000;
const CURRENT_FILE = 'current.json';

/**
 * sha256 of a binary by what the path resolves to now, hashed once per file: the link may be
 * switched under a caller, and a snapshot must record the binary that really ran.
 */
export class BinaryDigests {
  private readonly cache = new Map<string, Promise<string>>();

  async of(path: string): Promise<string> {
    const real = await realpath(path);
    const s = await stat(real);
    const key = `${real}\0${s.size}\0${s.mtimeMs}`;
    let digest = this.cache.get(key);
    if (!digest) {
      digest = sha256OfFile(real);
      this.cache.set(key, digest);
      digest.catch(() => this.cache.delete(key));
    }
    return digest;
  }
}

export interface NodeRuntimeOptions {
  /** The runtime directory on the host (`--runtime-dir`). */
  dir: string;
  /** The runsc the node runs until a SandboxConfig names another (`--runsc`). */
  initial: string;
  /** How https:// assets are fetched (tests pass one that trusts their CA). */
  fetch?: typeof fetch;
  maxBytes?: number;
}

const refuse = (message: string, details: Record<string, unknown> = {}) => new AgentboxError('integrity_error', message, { details });

/** The first line of `runsc --version`; refuses a binary that does not answer as runsc. */
async function runscVersion(binary: string): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(binary, ['--version'], { timeout: 10_000 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw refuse(`the binary does not run: ${(err.stderr || err.message).trim().slice(-300)}`);
  }
  const first = stdout.split('\n')[0]!.trim();
  if (!first.startsWith('runsc version ')) throw refuse(`the binary is not runsc: \`--version\` printed ${JSON.stringify(first.slice(0, 120))}`);
  return first;
}

export class NodeRuntime {
  /** The link the runsc wrapper and the node agent run. */
  readonly path: string;
  private readonly digests = new BinaryDigests();
  /** Installs one at a time: two configs racing must not interleave their link switches. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: NodeRuntimeOptions) {
    this.path = join(o.dir, 'runsc');
  }

  /** Creates the link to the initial binary unless an earlier run of the agent left one. */
  async init(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o755 });
    const existing = await lstat(this.path).catch(() => undefined);
    if (existing?.isSymbolicLink() && await stat(this.path).catch(() => undefined)) return;
    if (existing) await rm(this.path, { force: true });
    await this.link(this.o.initial);
  }

  async state(): Promise<RuntimeState> {
    const sha256 = await this.digests.of(this.path);
    type Current = { config?: string; sha256?: string };
    const current = await readFile(join(this.o.dir, CURRENT_FILE), 'utf8').then((t) => JSON.parse(t) as Current, (): Current => ({}));
    return { sha256, version: await runscVersion(this.path), ...(current.sha256 === sha256 && current.config ? { config: current.config } : {}), changed: false };
  }

  install(req: RuntimeInstallRequest): Promise<RuntimeState> {
    const next = this.serial.then(() => this.installNow(req));
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async installNow(req: RuntimeInstallRequest): Promise<RuntimeState> {
    const before = await this.digests.of(this.path).catch(() => undefined);
    const target = join(this.o.dir, 'sha256', req.sha256, 'runsc');
    const have = await this.digests.of(target).catch(() => undefined);
    const version = have === req.sha256 ? await runscVersion(target) : await this.fetchVerified(req, target);
    if (before !== req.sha256) await this.link(join('sha256', req.sha256, 'runsc'));
    await writeFile(join(this.o.dir, `${CURRENT_FILE}.new`), JSON.stringify({ config: req.config, sha256: req.sha256 }));
    await rename(join(this.o.dir, `${CURRENT_FILE}.new`), join(this.o.dir, CURRENT_FILE));
    return { sha256: req.sha256, version, config: req.config, changed: before !== req.sha256 };
  }

  /** Fetches the asset beside its place, hashing as it arrives; only a verified, runnable runsc is moved in. Returns its version. */
  private async fetchVerified(req: RuntimeInstallRequest, target: string): Promise<string> {
    const incoming = join(this.o.dir, 'incoming');
    await mkdir(incoming, { recursive: true, mode: 0o700 });
    const tmp = join(incoming, `runsc-${randomBytes(6).toString('hex')}`);
    try {
      const hash = createHash('sha256');
      const max = this.o.maxBytes ?? DEFAULT_MAX_BYTES;
      let size = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > max) { done(refuse(`${req.url} is larger than ${max} bytes; not a runsc binary`)); return; }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(await this.open(req.url), hashing, createWriteStream(tmp, { mode: 0o700 }));
      const got = hash.digest('hex');
      if (got !== req.sha256) {
        throw refuse(`${req.url} has sha256 ${got}, but SandboxConfig ${req.config} says ${req.sha256}; not installed`, { url: req.url, expected: req.sha256, actual: got });
      }
      await chmod(tmp, 0o755);
      const version = await runscVersion(tmp);
      await mkdir(join(target, '..'), { recursive: true, mode: 0o755 });
      await rename(tmp, target);
      return version;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async open(url: string): Promise<Readable> {
    if (url.startsWith('file:///')) {
      const path = fileURLToPath(url);
      return await stat(path).then(() => createReadStream(path), () => { throw new AgentboxError('not_found', `${url}: no such file on node`); });
    }
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(url, { redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (e) {
      throw new AgentboxError('unavailable', `cannot fetch ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    if (!res.ok || !res.body) throw new AgentboxError('unavailable', `cannot fetch ${url}: HTTP ${res.status}`);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }

  /** Points the link at `to` by renaming a new link over it. */
  private async link(to: string): Promise<void> {
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}`;
    await symlink(to, tmp);
    await rename(tmp, this.path);
  }
}
