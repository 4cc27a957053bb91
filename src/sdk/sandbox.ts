/**
 * `Sandbox`: the SDK's entry point. Create, connect to or list sandboxes, then drive one through
 * `commands`, `files` and `pty`.
 *
 * @example
 *   import { Sandbox } from 'agentbox';
 *   const sbx = await Sandbox.create({ template: 'base', metadata: { user: 'u1' } });
 *   console.log((await sbx.commands.run('python3 -c "print(1+1)"')).stdout);
 *   await sbx.kill();
 */
import type { NativeApi } from '../api/native-routes.ts';
import type { RuntimeName, SandboxUsageView, SandboxView } from '../api/native.ts';
import type { BodyInput } from '../api/route.ts';
import { ApiClient, routePath } from './api-client.ts';
import { Commands } from './commands.ts';
import { resolveConnection, type ConnectionOptions } from './config.ts';
import { sandboxEvents, type EventsOptions, type SandboxEvent } from './events.ts';
import { EnvdClient } from './envd.ts';
import { Files } from './files.ts';
import { Pty } from './pty.ts';

export type SandboxInfo = SandboxView;
type CreateSandboxInput = BodyInput<NativeApi['createSandbox']>;

export interface SandboxCreateOptions extends ConnectionOptions {
  /** Default `base`. */
  template?: string;
  runtime?: RuntimeName;
  /** Sandbox lifetime, ms (rounded up to seconds); default 300 000. */
  timeoutMs?: number;
  /** What the timeout does: kill (default), pause (memory and processes kept) or pause_filesystem (files only). */
  onTimeout?: 'kill' | 'pause' | 'pause_filesystem';
  /** With a pausing onTimeout: resume on traffic to one of its ports. */
  autoResume?: boolean;
  envs?: Record<string, string>;
  metadata?: Record<string, string>;
  cpu?: number;
  memoryMiB?: number;
  /** Size of the sandbox's disk (its writable layer); a full disk is ENOSPC inside. */
  diskMiB?: number;
  network?: { defaultAction?: 'allow' | 'deny'; allow?: string[]; deny?: string[] };
  /** Volumes of the tenant to mount read-write (docs/volumes.md). */
  volumes?: { name: string; path: string }[];
}

export interface SandboxListOptions extends ConnectionOptions {
  metadata?: Record<string, string>;
  state?: ('running' | 'paused' | 'creating' | 'failed')[];
  template?: string;
  /** Page size (default 100). */
  limit?: number;
}

export class Sandbox {
  readonly commands: Commands;
  readonly files: Files;
  readonly pty: Pty;

  private constructor(readonly sandboxId: string, private readonly api: ApiClient, private info: SandboxInfo) {
    const envd = new EnvdClient(api, sandboxId);
    this.commands = new Commands(api, envd, sandboxId);
    this.files = new Files(api, sandboxId);
    this.pty = new Pty(envd);
  }

  /** Same as `sandboxId`. */
  get id(): string { return this.sandboxId; }

  static async create(opts: SandboxCreateOptions = {}): Promise<Sandbox> {
    const api = new ApiClient(resolveConnection(opts));
    const body: CreateSandboxInput = { template: opts.template ?? 'base' };
    if (opts.runtime) body.runtime = opts.runtime;
    if (opts.timeoutMs !== undefined) body.timeoutSeconds = Math.ceil(opts.timeoutMs / 1000);
    if (opts.onTimeout) body.onTimeout = opts.onTimeout;
    if (opts.autoResume !== undefined) body.autoResume = opts.autoResume;
    if (opts.envs) body.env = opts.envs;
    if (opts.metadata) body.metadata = opts.metadata;
    if (opts.cpu !== undefined) body.cpu = opts.cpu;
    if (opts.memoryMiB !== undefined) body.memoryMiB = opts.memoryMiB;
    if (opts.diskMiB !== undefined) body.diskMiB = opts.diskMiB;
    if (opts.network) body.network = opts.network;
    if (opts.volumes) body.volumes = opts.volumes;
    const info = await api.call('createSandbox', {}, { json: body, timeoutMs: 0 });
    return new Sandbox(info.id, api, info);
  }

  /** Attaches to an existing sandbox; a paused one is resumed. */
  static async connect(sandboxId: string, opts: ConnectionOptions = {}): Promise<Sandbox> {
    const api = new ApiClient(resolveConnection(opts));
    let info = await api.call('getSandbox', { id: sandboxId }, {});
    if (info.state === 'paused') info = await api.call('resumeSandbox', { id: sandboxId }, { timeoutMs: 0 });
    return new Sandbox(info.id, api, info);
  }

  /**
   * All matching sandboxes, newest first, fetching pages as it goes.
   *
   * @example
   *   for await (const info of Sandbox.list({ metadata: { user: 'u1' } })) console.log(info.id);
   */
  static async *list(opts: SandboxListOptions = {}): AsyncGenerator<SandboxInfo> {
    const api = new ApiClient(resolveConnection(opts));
    // One `k=v&k2=v2` string with each key and value URL-encoded (the server splits, then decodes).
    const metadata = opts.metadata ? Object.entries(opts.metadata).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') : undefined;
    let nextToken: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const res = await api.call('listSandboxes', {}, {
        query: { metadata, state: opts.state?.join(','), template: opts.template, limit: opts.limit, nextToken },
      });
      yield* res.sandboxes;
      nextToken = res.nextToken;
      if (!nextToken) return;
    }
  }

  /**
   * Lifecycle events of the caller's sandboxes (created, updated, paused, resumed, killed),
   * oldest first; with `follow`, then each new one as it happens, until `signal` aborts.
   *
   * @example
   *   for await (const e of Sandbox.events({ follow: true, signal })) console.log(e.type, e.sandboxId);
   */
  static events(opts: EventsOptions & ConnectionOptions = {}): AsyncGenerator<SandboxEvent> {
    return sandboxEvents(new ApiClient(resolveConnection(opts)), opts);
  }

  /** This sandbox's lifecycle events (see `Sandbox.events`). */
  events(opts: Omit<EventsOptions, 'sandboxId'> = {}): AsyncGenerator<SandboxEvent> {
    return sandboxEvents(this.api, { ...opts, sandboxId: this.sandboxId });
  }

  /** The latest server view (state, timeout, metadata…). */
  async getInfo(): Promise<SandboxInfo> {
    this.info = await this.api.call('getSandbox', { id: this.sandboxId }, {});
    return this.info;
  }

  /** Checkpoints the sandbox; a paused sandbox holds no memory and keeps its processes. */
  async pause(): Promise<void> {
    this.info = await this.api.call('pauseSandbox', { id: this.sandboxId }, { timeoutMs: 0 });
  }

  async resume(): Promise<void> {
    this.info = await this.api.call('resumeSandbox', { id: this.sandboxId }, { timeoutMs: 0 });
  }

  /** Resets the timeout to `timeoutMs` from now (rounded up to seconds). */
  async setTimeout(timeoutMs: number): Promise<void> {
    this.info = await this.api.call('setTimeout', { id: this.sandboxId }, { json: { timeoutSeconds: Math.ceil(timeoutMs / 1000) } });
  }

  /** A running copy of this sandbox (memory, processes and files). */
  async fork(opts: { metadata?: Record<string, string>; timeoutMs?: number } = {}): Promise<Sandbox> {
    const body: BodyInput<NativeApi['forkSandbox']> = {};
    if (opts.metadata) body.metadata = opts.metadata;
    if (opts.timeoutMs !== undefined) body.timeoutSeconds = Math.ceil(opts.timeoutMs / 1000);
    const info = await this.api.call('forkSandbox', { id: this.sandboxId }, { json: body, timeoutMs: 0 });
    return new Sandbox(info.id, this.api, info);
  }

  /**
   * The sandbox's console as text: its guest daemon's log (JSON lines) with its start command's
   * output. With `follow`, it goes on with what comes next, until the sandbox ends or `signal` aborts.
   *
   * @example
   *   for await (const text of sbx.logs()) process.stdout.write(text);
   */
  async *logs(opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const res = await this.api.request('GET', routePath('getSandboxLogs', { id: this.sandboxId }), {
      query: { follow: opts.follow ? 'true' : undefined }, timeoutMs: 0, ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const decoder = new TextDecoder();
    for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /** CPU time, memory, pids and disk the running sandbox uses now. */
  async usage(): Promise<SandboxUsageView> {
    return this.api.call('getSandboxUsage', { id: this.sandboxId }, {});
  }

  async kill(): Promise<void> {
    await this.api.call('killSandbox', { id: this.sandboxId }, {});
  }

  /**
   * The host (and path) where `port` inside the sandbox is reached: `<port>-<id>.<domain>` when
   * the server has a routing domain, else `<server>/v1/sandboxes/<id>/ports/<port>` (needs the key).
   *
   * @example
   *   const url = `http://${sbx.getHost(8080)}/`;
   */
  getHost(port: number): string {
    const server = new URL(this.api.conn.apiUrl);
    if (this.api.conn.domain) return `${port}-${this.sandboxId}.${this.api.conn.domain}${server.port ? `:${server.port}` : ''}`;
    return `${server.host}/v1/sandboxes/${this.sandboxId}/ports/${port}`;
  }
}
