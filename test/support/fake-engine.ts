/**
 * FAKE engine for server unit tests: it isolates nothing. A "sandbox" is a host directory and a
 * JSON state file under `root`, so a restarted server process sees the same sandboxes (as the
 * real engine re-adopts its own); `exec` runs a real `/bin/sh` on the host with the sandbox
 * directory as cwd; files map `/x` to `<sandbox dir>/x`. Used where the real engine is not needed
 * to test server logic (stores, auth, pools, lifecycle, routes, SDK, CLI); the e2e tests use the
 * real engine.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync, readdir, createReadStream } from 'node:fs';
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SIGNAL_TEXT } from '../../src/api/envd-protocol.ts';
import { AgentboxError, notFound } from '../../src/api/errors.ts';
import type { FileEntryView, TemplateBody } from '../../src/api/native.ts';
import type { CreateSandboxRequest, EgressPolicy, Engine, ExecRequest, ExecResult, PauseOptions, SandboxInfo } from '../../src/engine/types.ts';
import type { GuestAddress, SandboxFiles } from '../../src/server/guest-files.ts';
import type { CatalogEntry, CatalogTarget, TemplateCatalog } from '../../src/server/templates.ts';

export interface FakeEngineOptions {
  root: string;
  /** Simulated start time of a sandbox. */
  startDelayMs?: number;
  /** The address ports are reached on (tests run their "port" servers on loopback). */
  address?: string;
}

export class FakeEngine implements Engine {
  readonly calls: string[] = [];
  constructor(private readonly o: FakeEngineOptions) {
    mkdirSync(join(o.root, 'state'), { recursive: true });
  }

  private statePath(id: string) { return join(this.o.root, 'state', `${id}.json`); }
  dir(id: string) { return join(this.o.root, 'sandboxes', id); }

  private save(info: SandboxInfo): SandboxInfo {
    const tmp = `${this.statePath(info.id)}.tmp`;
    writeFileSync(tmp, JSON.stringify(info));
    renameSync(tmp, this.statePath(info.id));
    return info;
  }

  async create(req: CreateSandboxRequest): Promise<SandboxInfo> {
    const id = req.id ?? Math.random().toString(36).slice(2, 12);
    if (existsSync(this.statePath(id))) throw new AgentboxError('already_exists', `sandbox ${id} exists`);
    // Every attempt is recorded, failed ones too: the pool back-off test counts them.
    this.calls.push(`create ${id}`);
    if (req.template === 'broken') throw new AgentboxError('internal', 'fake: template broken cannot start');
    mkdirSync(this.dir(id), { recursive: true });
    return this.save({
      id, hostname: id, template: req.template, runtime: req.runtime ?? 'runc', state: 'creating', pauseMode: 'freeze',
      createdAt: new Date().toISOString(), limits: { cpu: req.limits?.cpu ?? 1, memoryMiB: req.limits?.memoryMiB ?? 512, pids: 512, diskMiB: req.limits?.diskMiB ?? 10_240 },
      env: req.env ?? {}, egress: req.egress ?? { defaultAction: 'allow', allow: [], deny: [] }, address: this.o.address ?? '127.0.0.1',
      guest: { url: `fake://${id}`, accessToken: 'fake-token', envdVersion: '0.5.7' }, volumes: req.volumes ?? [],
    });
  }

  async start(id: string): Promise<SandboxInfo> {
    if (this.o.startDelayMs) await new Promise((r) => setTimeout(r, this.o.startDelayMs));
    return this.save({ ...this.get(id), state: 'running' });
  }

  async run(req: CreateSandboxRequest): Promise<SandboxInfo> {
    const info = await this.create(req);
    return this.start(info.id);
  }

  /** FAKE: no checkpoints, so every create boots. */
  async prepareGolden(): Promise<boolean> {
    return false;
  }

  /** FAKE: no guest runs a start command. */
  async startOnce(): Promise<boolean> {
    return false;
  }

  get(id: string): SandboxInfo {
    try {
      return JSON.parse(readFileSync(this.statePath(id), 'utf8')) as SandboxInfo;
    } catch {
      throw notFound('sandbox', id);
    }
  }

  list(): SandboxInfo[] {
    return readdirSync(join(this.o.root, 'state')).filter((f) => f.endsWith('.json')).map((f) => this.get(f.slice(0, -5)));
  }

  async exec(id: string, req: ExecRequest): Promise<ExecResult> {
    const info = this.get(id);
    if (info.state !== 'running') throw new AgentboxError('conflict', `sandbox ${id} is ${info.state}`);
    return new Promise((resolve, reject) => {
      const child = spawn(req.cmd[0]!, req.cmd.slice(1), {
        cwd: req.cwd ? join(this.dir(id), req.cwd) : this.dir(id),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...info.env, ...(req.env ?? {}) },
        signal: req.signal, timeout: req.timeoutMs || undefined,
      });
      const outChunks: Buffer[] = [], errChunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => { outChunks.push(c); req.onStdout?.(c); });
      child.stderr.on('data', (c: Buffer) => { errChunks.push(c); req.onStderr?.(c); });
      child.on('error', (err) => { if (err.name !== 'AbortError') reject(new AgentboxError('internal', err.message)); });
      child.stdin.on('error', () => {}); // the command may exit before reading its stdin
      child.stdin.end(req.stdin ?? '');
      child.on('close', (code, sig) => {
        const stdout = Buffer.concat(outChunks).toString(req.resultEncoding), stderr = Buffer.concat(errChunks).toString(req.resultEncoding);
        // As the guest words it, less the `signal: ` the envd client takes off.
        resolve(sig ? { exitCode: -1, stdout, stderr, status: SIGNAL_TEXT[sig] ?? sig } : { exitCode: code ?? -1, stdout, stderr });
      });
    });
  }

  async pause(id: string, opts: PauseOptions = {}): Promise<SandboxInfo> {
    this.calls.push(`pause ${id}${opts.memory === false ? ' memory=false' : ''}`);
    return this.save({ ...this.get(id), state: 'paused', pausedAt: new Date().toISOString() });
  }
  async resume(id: string, opts: PauseOptions = {}): Promise<SandboxInfo> { this.calls.push(`resume ${id}${opts.memory === false ? ' memory=false' : ''}`); const { pausedAt: _p, ...rest } = this.get(id); return this.save({ ...rest, state: 'running' }); }
  async snapshot(): Promise<never> { throw new AgentboxError('not_supported', 'fake engine'); }
  listSnapshots() { return []; }
  async deleteSnapshot(): Promise<void> { throw new AgentboxError('not_supported', 'fake engine'); }
  async restoreSnapshot(): Promise<never> { throw new AgentboxError('not_supported', 'fake engine'); }

  async fork(id: string, req?: { id?: string }): Promise<SandboxInfo> {
    const src = this.get(id);
    const info = await this.run({ template: src.template, id: req?.id, runtime: src.runtime, env: src.env });
    for (const name of readdirSync(this.dir(id))) writeFileSync(join(this.dir(info.id), name), readFileSync(join(this.dir(id), name)));
    return info;
  }

  /** Records the rules (nothing is enforced): what the engine reports back is what was set. */
  async setEgress(id: string, egress: EgressPolicy): Promise<SandboxInfo> { return this.save({ ...this.get(id), egress }); }
  async setEnv(id: string, env: Record<string, string>): Promise<SandboxInfo> { const info = this.get(id); return this.save({ ...info, env: { ...info.env, ...env } }); }
  async inspect() { return { memoryBytes: 0, cpuNanos: 0, pids: 0 }; }
  /** The fake writes no console: the file stays absent, as before a real sandbox first starts. */
  logPath(id: string): string { this.get(id); return join(this.dir(id), 'runtime.log'); }

  async destroy(id: string): Promise<void> {
    this.get(id);
    this.calls.push(`destroy ${id}`);
    rmSync(this.dir(id), { recursive: true, force: true });
    rmSync(this.statePath(id), { force: true });
  }

  // Volumes: a plain host directory each, with no size limit (the real engine's are disk images).
  async createVolume(id: string): Promise<void> { mkdirSync(join(this.o.root, 'volumes', id), { recursive: true }); }
  volumeDir(id: string): string {
    const dir = join(this.o.root, 'volumes', id);
    if (!existsSync(dir)) throw notFound('volume', id);
    return dir;
  }
  async deleteVolume(id: string): Promise<void> {
    const users = this.list().filter((s) => s.volumes?.some((v) => v.volumeId === id));
    if (users.length > 0) throw new AgentboxError('conflict', `fake: volume ${id} is mounted`);
    rmSync(this.volumeDir(id), { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}

/** FAKE template catalog: `busybox` and `base` are ready; `broken` is ready but fails to start. */
export class FakeCatalog implements TemplateCatalog {
  private readonly entries = new Map<string, CatalogEntry>([
    ['base', { name: 'base', state: 'ready', cpu: 1, memoryMiB: 512 }],
    ['busybox', { name: 'busybox', state: 'ready', cpu: 1, memoryMiB: 256 }],
    ['broken', { name: 'broken', state: 'ready', cpu: 1, memoryMiB: 256 }],
  ]);
  list() { return [...this.entries.values()]; }
  get(name: string) { return this.entries.get(name); }
  async build(recipe: TemplateBody, onProgress: ((l: string) => void) | undefined, target: CatalogTarget) {
    onProgress?.(`fake build of ${recipe.name}`);
    const e: CatalogEntry = { name: target.key, state: 'ready', cpu: 1, memoryMiB: 512 };
    this.entries.set(target.key, e);
    return e;
  }
  async buildFromUpload(recipe: TemplateBody, archive: AsyncIterable<Uint8Array>, onProgress: ((l: string) => void) | undefined, target: CatalogTarget) {
    for await (const _ of archive) void _;
    return this.build(recipe, onProgress, target);
  }
  async ensureBuiltin(name: string) {
    const e = this.entries.get(name);
    if (!e) throw notFound('template', name);
    return e;
  }
}

/** FAKE guest files: the sandbox's host directory stands in for its root filesystem. */
export function fakeFiles(engine: FakeEngine): SandboxFiles {
  const idOf = (g: GuestAddress) => g.url.replace('fake://', '');
  const host = (g: GuestAddress, p: string) => join(engine.dir(idOf(g)), p);
  const entry = async (g: GuestAddress, p: string): Promise<FileEntryView> => {
    const st = await lstat(host(g, p)).catch(() => { throw notFound('file', p); });
    return { name: p.split('/').pop() ?? p, path: p, type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file', size: st.size, mode: st.mode & 0o777, modifiedTime: st.mtime.toISOString() };
  };
  return {
    async read(g, p) {
      const st = await entry(g, p);
      if (st.type === 'dir') throw new AgentboxError('invalid_argument', `${p} is a directory`);
      return { size: st.size, body: createReadStream(host(g, p)) };
    },
    async write(g, p, data) {
      await mkdir(dirname(host(g, p)), { recursive: true });
      await writeFile(host(g, p), data);
      return entry(g, p);
    },
    // A missing path is no error, as the guest's Remove (src/guest/filesystem/remove.ts).
    async remove(g, p) { await rm(host(g, p), { recursive: true, force: true }); },
    async list(g, p) {
      if ((await entry(g, p)).type !== 'dir') throw new AgentboxError('invalid_argument', `${p} is not a directory`);
      const names = await new Promise<string[]>((res, rej) => readdir(host(g, p), (e, n) => (e ? rej(e) : res(n))));
      return Promise.all(names.sort().map((n) => entry(g, `${p.replace(/\/$/, '')}/${n}`)));
    },
    stat: entry,
    async watch(_g, _p, onEvent, signal) {
      await onEvent({ type: 'start' });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
    // No connections to drop: files are the host directory.
    forget() {},
  };
}
