/**
 * The host's one client of the guest daemon (envd protocol), for the engine and the server's
 * files API: raw typed Connect clients for both services, the calls the engine needs on its hot
 * paths (readiness on cold start, exec, re-keying), and the file calls (files.ts). One keep-alive
 * HTTP/1.1 agent per client for the RPCs, so an exec costs one request on a warm connection, sent in
 * one write (http1-client.ts).
 *
 * @example
 *   const guest = createGuestClient({ url: 'http://10.88.0.6:49983', accessToken });
 *   await guest.waitUntilReady({ timeoutMs: 5000 });
 *   const { exitCode, stdout } = await guest.exec({ cmd: ['/bin/sh', '-c', 'echo hi'] });
 */
import { Agent, request } from 'node:http';
import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createTransport } from '@connectrpc/connect/protocol-connect';
import { ACCESS_TOKEN_HEADER, HEAP_SETTLED_PATH, INIT_SECRET_HEADER, START_COMMAND_PATH, userHeader, type HeapSettledStatus, type StartCommandStatus } from '../api/envd-protocol.ts';
import { AgentboxError } from '../api/errors.ts';
import { Process, Signal, type ProcessEvent_EndEvent } from '../guest/gen/process_pb.ts';
import { Filesystem } from '../guest/gen/filesystem_pb.ts';
import type { InitBody } from '../guest/http/init.ts';
import { fromConnectError, GUEST_MAX_MESSAGE_BYTES } from './errors.ts';
import { createGuestFiles, type GuestFiles } from './files.ts';
import { createHttp1Client } from './http1-client.ts';
import { readProcessEvents } from './process-events.ts';

export interface ExecRequest {
  /** argv; use ['/bin/sh', '-c', line] for a shell line. */
  cmd: string[];
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  stdin?: string | Uint8Array;
  /** Kills the process when it elapses; 0 or absent = no limit. */
  timeoutMs?: number;
  /**
   * Called for each chunk as it arrives. A returned promise holds the stream until it settles,
   * so a slow consumer slows the process down instead of making the host buffer its output.
   */
  onStdout?: (chunk: Uint8Array) => unknown;
  onStderr?: (chunk: Uint8Array) => unknown;
  /**
   * Most bytes of each stream kept for the result (default DEFAULT_MAX_EXEC_OUTPUT_BYTES); the
   * rest is dropped and the result says `truncated`. 0 keeps nothing (streaming callers).
   */
  maxOutputBytes?: number;
  /** How the result's `stdout` and `stderr` hold the bytes: text (default) or base64, which is byte-exact. */
  resultEncoding?: 'utf8' | 'base64';
  signal?: AbortSignal;
}

/** 16 MiB per stream: what an exec result may hold in the server's memory. */
export const DEFAULT_MAX_EXEC_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the process ended by a signal (e.g. 'killed'). */
  status?: string;
  /** Set when stdout or stderr passed `maxOutputBytes` and was cut there. */
  truncated?: true;
}

export interface GuestClientOptions {
  /** Base URL of the guest, e.g. http://10.88.0.6:49983 */
  url: string;
  accessToken?: string;
  /**
   * Sent with every request, for a guest reached through a router (the Kubernetes backend sends
   * the sandbox router's X-Sandbox-* headers and its token). They win over per-call headers.
   */
  headers?: Record<string, string>;
}

export interface GuestClient {
  readonly process: Client<typeof Process>;
  readonly filesystem: Client<typeof Filesystem>;
  /** The file calls of the server's files API, with errors as AgentboxError and bounded reads. */
  readonly files: GuestFiles;
  /** True when GET /health answers 204. */
  health(opts?: { timeoutMs?: number }): Promise<boolean>;
  /** Polls /health until it answers; throws `unavailable` after `timeoutMs`. */
  waitUntilReady(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  exec(req: ExecRequest): Promise<ExecResult>;
  /**
   * How the template's start command stands (GET /start-command, agentbox's own);
   * undefined when the guest has none to report (no start command, or a guest from before it).
   */
  startCommand(): Promise<StartCommandStatus | undefined>;
  /** Re-keys the guest after a fork/restore (POST /init). */
  init(secret: string, body: InitBody): Promise<void>;
  /**
   * Waits up to `timeoutMs` (at most HEAP_SETTLED_MAX_WAIT_MS) for V8 to finish giving the
   * guest's memory back after its start (GET /heap-settled, agentbox's own); says how it stands then.
   */
  heapSettled(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<HeapSettledStatus>;
  /** Closes pooled connections. */
  close(): void;
}

/** How long an aborted exec waits for the guest to report its killed process before cutting the stream. */
const ABORT_GRACE_MS = 5_000;


const POLL_INTERVAL_MS = 5;

/** Keeps the first `max` bytes of a stream and remembers whether anything was dropped. */
class CappedOutput {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(chunk: Uint8Array): void {
    const room = this.max - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(encoding: 'utf8' | 'base64'): string {
    return Buffer.concat(this.chunks).toString(encoding);
  }
}

function timedOut(timeoutMs: number | undefined, cause?: unknown): AgentboxError {
  return new AgentboxError('deadline_exceeded', `command exceeded timeoutMs (${timeoutMs} ms) and was killed; raise timeoutMs`, { cause });
}

export function createGuestClient(opts: GuestClientOptions): GuestClient {
  const base = opts.url.replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const auth: Interceptor = (next) => (req) => {
    if (opts.accessToken) req.header.set(ACCESS_TOKEN_HEADER, opts.accessToken);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req.header.set(k, v);
    return next(req);
  };
  const transport = createTransport({
    baseUrl: base,
    // A call's headers and its one message leave in one write (http1-client.ts).
    httpClient: createHttp1Client(agent),
    // Protobuf, not JSON: output bytes then cost no base64 and no JSON parse on either side.
    useBinaryFormat: true,
    readMaxBytes: GUEST_MAX_MESSAGE_BYTES,
    // connect-node's default: what the host sends is bounded where it enters the server.
    writeMaxBytes: 0xffffffff,
    // Both ends are ours and sit on one host: compressing would only cost CPU.
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    interceptors: [auth],
  });
  const processClient = createClient(Process, transport);
  const filesystemClient = createClient(Filesystem, transport);
  const files = createGuestFiles(filesystemClient, base, opts.accessToken, opts.headers);

  /** One plain-HTTP request; the answer's status and its (small) body. */
  function httpCall(method: string, path: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { method, agent, headers: { ...headers, ...opts.headers }, timeout: timeoutMs, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('timeout', () => req.destroy(new AgentboxError('deadline_exceeded', `${method} ${path} took longer than ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function health(o?: { timeoutMs?: number }): Promise<boolean> {
    try {
      return (await httpCall('GET', '/health', {}, undefined, o?.timeoutMs ?? 2000)).status === 204;
    } catch {
      return false;
    }
  }

  async function waitUntilReady(o: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      if (o.signal?.aborted) throw new AgentboxError('unavailable', `waiting for the guest at ${base} was aborted`);
      const left = deadline - Date.now();
      if (await health({ timeoutMs: Math.max(50, Math.min(left, 1000)) })) return;
      if (Date.now() + POLL_INTERVAL_MS > deadline) {
        throw new AgentboxError('unavailable', `the guest at ${base} did not answer /health within ${o.timeoutMs} ms; check the sandbox log`);
      }
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
  }

  async function exec(req: ExecRequest): Promise<ExecResult> {
    const [cmd, ...args] = req.cmd;
    if (!cmd) throw new AgentboxError('invalid_argument', 'exec needs a non-empty cmd');
    const stdin = typeof req.stdin === 'string' ? Buffer.from(req.stdin) : req.stdin;
    const startedAt = performance.now();
    const abort = new AbortController();
    const max = req.maxOutputBytes ?? DEFAULT_MAX_EXEC_OUTPUT_BYTES;
    const out = { stdout: new CappedOutput(max), stderr: new CappedOutput(max) };
    let pid: number | undefined;
    // Settles to the stdin feeding failure, if any; never rejects, so no rejection goes unhandled mid-stream.
    let feedFailure: Promise<unknown> = Promise.resolve(undefined);
    let end: ProcessEvent_EndEvent | undefined;
    const kill = (target: number) => {
      void processClient.sendSignal({ process: { selector: { case: 'pid', value: target } }, signal: Signal.SIGKILL }).catch(() => {});
    };
    // A caller's abort kills the process and lets its stream run to the end event, so a rejected
    // exec means the process is gone. The stream stays open because the pid may not have arrived
    // yet (a client that merely leaves does not kill, as in envd); a guest that never answers is
    // cut off after a grace.
    let cutOff: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (pid !== undefined) kill(pid);
      cutOff = setTimeout(() => abort.abort(req.signal?.reason), ABORT_GRACE_MS);
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (req.signal?.aborted) throw req.signal.reason;
      const stream = processClient.start(
        { process: { cmd, args, envs: req.env ?? {}, cwd: req.cwd }, stdin: stdin !== undefined },
        { headers: userHeader(req.user), timeoutMs: req.timeoutMs || undefined, signal: abort.signal },
      );
      end = await readProcessEvents(stream, {
        onStart(started) {
          pid = started;
          if (req.signal?.aborted) kill(pid);
          if (stdin !== undefined) {
            const sel = { selector: { case: 'pid' as const, value: pid } };
            // The process may exit before reading all of it: NotFound then just means "done".
            feedFailure = processClient.sendInput({ process: sel, input: { input: { case: 'stdin', value: stdin } } })
              .then(() => processClient.closeStdin({ process: sel }))
              .then(() => undefined, (err: unknown) => (ConnectError.from(err).code === Code.NotFound ? undefined : err));
          }
        },
        async onData(kind, data) {
          if (kind === 'stderr') { out.stderr.push(data); await req.onStderr?.(data); }
          else { out.stdout.push(data); await req.onStdout?.(data); }
        },
      });
      if (req.signal?.aborted) throw req.signal.reason;
      const failure = await feedFailure;
      if (failure) throw failure;
    } catch (err) {
      if (req.signal?.aborted) throw new AgentboxError('deadline_exceeded', 'exec was aborted by its caller; the process was killed', { cause: err });
      const ce = ConnectError.from(err);
      if (ce.code === Code.DeadlineExceeded) {
        throw timedOut(req.timeoutMs, err);
      }
      throw fromConnectError(err, `exec of '${cmd}'`);
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      clearTimeout(cutOff);
    }
    // A process killed at its deadline reads as a timeout, whether the end event or the
    // deadline error reached us first.
    if ((!end || !end.exited) && req.timeoutMs && performance.now() - startedAt >= req.timeoutMs) {
      throw timedOut(req.timeoutMs);
    }
    if (!end) throw new AgentboxError('unavailable', `the guest stream for '${cmd}' ended without an end event`);
    const encoding = req.resultEncoding ?? 'utf8';
    const result: ExecResult = { exitCode: end.exitCode, stdout: out.stdout.text(encoding), stderr: out.stderr.text(encoding) };
    if (!end.exited) result.status = end.status.replace(/^signal: /, '');
    if (out.stdout.truncated || out.stderr.truncated) result.truncated = true;
    return result;
  }

  /** For agentbox's own plain-HTTP calls; the RPC clients carry the token through `auth`. */
  const tokenHeader: Record<string, string> = opts.accessToken ? { [ACCESS_TOKEN_HEADER]: opts.accessToken } : {};

  async function startCommand(): Promise<StartCommandStatus | undefined> {
    const res = await httpCall('GET', START_COMMAND_PATH, tokenHeader, undefined, 2000);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new AgentboxError('unavailable', `guest GET ${START_COMMAND_PATH} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as StartCommandStatus;
  }

  async function init(secret: string, body: InitBody): Promise<void> {
    const text = JSON.stringify(body);
    const { status } = await httpCall('POST', '/init', {
      [INIT_SECRET_HEADER]: secret,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    }, text, 10_000);
    if (status !== 204) {
      throw new AgentboxError(status === 401 ? 'unauthenticated' : 'unavailable', `guest /init answered ${status}`);
    }
  }

  async function heapSettled(o: { timeoutMs: number; signal?: AbortSignal }): Promise<HeapSettledStatus> {
    const path = `${HEAP_SETTLED_PATH}?timeoutMs=${o.timeoutMs}`;
    // The guest answers after up to timeoutMs; the socket may idle that long.
    const res = await httpCall('GET', path, tokenHeader, undefined, o.timeoutMs + 5000, o.signal);
    if (res.status !== 200) throw new AgentboxError(res.status === 401 ? 'unauthenticated' : 'unavailable', `guest GET ${HEAP_SETTLED_PATH} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as HeapSettledStatus;
  }

  return {
    process: processClient,
    filesystem: filesystemClient,
    files,
    health,
    waitUntilReady,
    exec,
    startCommand,
    init,
    heapSettled,
    close: () => { agent.destroy(); files.close(); },
  };
}
