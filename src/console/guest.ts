/**
 * The browser's way to a sandbox's terminal: the guest daemon's `process.Process` service
 * (spec/envd/process.proto) in the Connect protocol's JSON form, through the server's port route
 * `/v1/sandboxes/{id}/ports/49983/…`, as the SDK does (src/sdk/envd.ts). The key goes as
 * `X-API-Key` (src/gateway/auth.ts), leaving `Authorization` to the guest.
 *
 * The envelope framing and the end-of-stream frame are @connectrpc/connect's, as in the SDK;
 * only the fetch is ours (the console may import only src/api of ours, so not the SDK's client).
 */
import { codeToString, endStreamFlag, endStreamFromJson } from '@connectrpc/connect/protocol-connect';
import { createEnvelopeReadableStream, encodeEnvelope } from '@connectrpc/connect/protocol';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { ApiError, errorOf } from './api.ts';
import { savedKey } from './key.ts';

const toBase64 = (bytes: Uint8Array): string => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function methodUrl(sandboxId: string, method: string): string {
  return `/v1/sandboxes/${sandboxId}/ports/${GUEST_PORT}/process.Process/${method}`;
}

function headers(contentType: string): Record<string, string> {
  return { 'Content-Type': contentType, 'Connect-Protocol-Version': '1', 'X-API-Key': savedKey() ?? '' };
}

async function unary(sandboxId: string, method: string, body: unknown): Promise<void> {
  const res = await fetch(methodUrl(sandboxId, method), { method: 'POST', headers: headers('application/json'), body: JSON.stringify(body) });
  if (!res.ok) throw await errorOf(res);
}

interface ProcessEvent {
  start?: { pid: number };
  data?: { pty?: string; stdout?: string; stderr?: string };
  end?: { exitCode?: number; exited?: boolean; status?: string; error?: string };
}

/** Each message of a Connect server stream, until its end frame (which may carry an error). */
async function* envelopes(res: Response): AsyncGenerator<unknown> {
  if (!res.body) return;
  const reader = createEnvelopeReadableStream(res.body).getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) return;
    if (frame.flags & endStreamFlag) {
      const { error } = endStreamFromJson(frame.data);
      if (error) throw new ApiError(0, codeToString(error.code), error.rawMessage || 'the terminal stream failed');
      return;
    }
    yield JSON.parse(decoder.decode(frame.data));
  }
}

/**
 * Keystrokes arrive one by one, and each is a request: sent concurrently they could overtake
 * each other. One request at a time, and what was typed meanwhile goes as one batch after it.
 */
function inOrder(send: (data: string) => Promise<void>): (data: string) => Promise<void> {
  let pending = '';
  let flushing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    try {
      while (pending) {
        const batch = pending;
        pending = '';
        await send(batch);
      }
    } finally {
      flushing = undefined;
    }
  };
  return (data) => {
    pending += data;
    flushing ??= flush();
    return flushing;
  };
}

export interface Terminal {
  pid: number;
  input(data: string): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
  kill(): Promise<void>;
  /** Resolves when the shell ends (with its status), rejects when the stream breaks. */
  ended: Promise<string>;
}

/** A shell on a PTY in the sandbox; its output goes to `onData` as it arrives. */
export async function openTerminal(sandboxId: string, size: { cols: number; rows: number }, onData: (bytes: Uint8Array) => void): Promise<Terminal> {
  const request = { process: { cmd: '/bin/sh', args: ['-i'], envs: { TERM: 'xterm-256color', LANG: 'C.UTF-8' } }, pty: { size } };
  const body = encodeEnvelope(0, new TextEncoder().encode(JSON.stringify(request)));
  const res = await fetch(methodUrl(sandboxId, 'Start'), { method: 'POST', headers: headers('application/connect+json'), body });
  if (!res.ok) throw await errorOf(res);
  const events = envelopes(res);
  const first = await events.next();
  const pid = (first.value as { event?: ProcessEvent } | undefined)?.event?.start?.pid;
  if (first.done || pid === undefined) throw new ApiError(0, 'internal', 'the guest did not start the shell');
  const ended = (async () => {
    for await (const m of events) {
      const event = (m as { event?: ProcessEvent }).event;
      if (event?.data?.pty) onData(fromBase64(event.data.pty));
      if (event?.end) return event.end.status ?? `exit ${event.end.exitCode ?? 0}`;
    }
    return 'stream closed';
  })();
  const process = { pid };
  const send = (data: string) => unary(sandboxId, 'SendInput', { process, input: { pty: toBase64(new TextEncoder().encode(data)) } });
  return {
    pid,
    input: inOrder(send),
    resize: (cols, rows) => unary(sandboxId, 'Update', { process, pty: { size: { cols, rows } } }),
    kill: () => unary(sandboxId, 'SendSignal', { process, signal: 'SIGNAL_SIGKILL' }),
    ended,
  };
}
