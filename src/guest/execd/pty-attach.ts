/**
 * GET /pty/{id}/ws: a PTY session's WebSocket (upstream `components/execd/PTY.md`). The client
 * gets a JSON `connected` frame, then (with `since=`) one replay frame of the kept history, then
 * live output; it sends stdin as binary frames behind a 0x00 byte and JSON control messages
 * (resize, signal, ping) as text. The WebSocket framing is the `ws` library's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { AgentboxError } from '../../api/errors.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';
import { PTY_CHANNEL, TAKEN_OVER_CLOSE, type PtySession } from './pty-session.ts';
import { findPty } from './pty-status.ts';

interface AttachOptions {
  onTerminal: boolean;
  since?: number;
  takeover: boolean;
}

function attachOptions(url: URL): AttachOptions {
  const pty = url.searchParams.get('pty') ?? '1';
  if (pty !== '0' && pty !== '1') throw execdError('invalid_argument', 'INVALID_REQUEST_BODY', `pty must be 0 (pipes) or 1 (a terminal), not '${pty}'`);
  const sinceRaw = url.searchParams.get('since');
  const since = sinceRaw === null || sinceRaw === '' ? undefined : Number(sinceRaw);
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
    throw execdError('invalid_argument', 'INVALID_REQUEST_BODY', `since must be a byte offset (a non-negative integer, as GET /pty/{id} reports in output_offset), not '${sinceRaw}'`);
  }
  return { onTerminal: pty === '1', since, takeover: url.searchParams.get('takeover') === '1' };
}

/** The replay frame: channel 0x03, the 8-byte big-endian offset of its first byte, the bytes. */
function replayFrame(offset: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = PTY_CHANNEL.replay;
  head.writeBigUInt64BE(BigInt(offset), 1);
  return Buffer.concat([head, data]);
}

const SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGTSTP', 'SIGCONT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']);

interface ControlMessage { type?: unknown; cols?: unknown; rows?: unknown; signal?: unknown }

function sendJsonFrame(ws: WebSocket, frame: Record<string, unknown>): void {
  ws.send(JSON.stringify(frame));
}

/** A control message; a malformed one gets an `error` frame and leaves the session as it is. */
function control(s: PtySession, ws: WebSocket, raw: string): void {
  let m: ControlMessage;
  try { m = JSON.parse(raw) as ControlMessage; } catch { return sendJsonFrame(ws, { type: 'error', message: 'control messages are JSON objects: {"type":"resize"|"signal"|"ping", …}' }); }
  switch (m.type) {
    case 'ping': return sendJsonFrame(ws, { type: 'pong' });
    case 'resize':
      if (!Number.isInteger(m.cols) || !Number.isInteger(m.rows) || (m.cols as number) < 1 || (m.rows as number) < 1) {
        return sendJsonFrame(ws, { type: 'error', message: 'resize needs positive integer cols and rows' });
      }
      if (s.running) s.handle!.driver.resize?.(m.cols as number, m.rows as number);
      return;
    case 'signal':
      if (typeof m.signal !== 'string' || !SIGNALS.has(m.signal)) {
        return sendJsonFrame(ws, { type: 'error', message: `signal must be one of ${[...SIGNALS].join(', ')}` });
      }
      return s.signal(m.signal as NodeJS.Signals);
    default:
      return sendJsonFrame(ws, { type: 'error', message: `unknown control message type '${String(m.type)}'; use resize, signal or ping` });
  }
}

function onMessage(s: PtySession, ws: WebSocket, data: RawData, isBinary: boolean): void {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
  if (!isBinary) return control(s, ws, bytes.toString('utf8'));
  if (bytes[0] !== PTY_CHANNEL.stdin) return sendJsonFrame(ws, { type: 'error', message: 'binary frames from the client carry stdin: 0x00 followed by the bytes' });
  if (s.running) s.handle!.driver.writeStdin(bytes.subarray(1));
}

/** Checks the request, then upgrades it; a refusal is an execd error answered on the socket. */
export async function attachPty(deps: ExecdDeps, wss: WebSocketServer, id: string, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const s = findPty(deps, id);
  const o = attachOptions(url);
  if (s.client && !o.takeover) {
    throw new AgentboxError('conflict', `PTY session '${id}' already has a client; connect with takeover=1 to replace it`);
  }
  const handle = await s.start(deps, o.onTerminal);
  wss.handleUpgrade(req, socket, head, (ws) => {
    const previous = s.client;
    s.setClient(ws);
    previous?.close(TAKEN_OVER_CLOSE.code, TAKEN_OVER_CLOSE.reason);
    sendJsonFrame(ws, { type: 'connected', session_id: id, pty: handle.isPty, output_offset: s.output.end });
    if (o.since !== undefined) {
      const { offset, data } = s.output.since(o.since);
      ws.send(replayFrame(offset, data));
    }
    if (handle.end) {
      sendJsonFrame(ws, { type: 'exit', exit_code: handle.end.exitCode });
      ws.close(1000, 'exited');
    }
    ws.on('message', (data, isBinary) => onMessage(s, ws, data, isBinary));
    ws.on('close', () => {
      if (s.client === ws) s.setClient(undefined);
    });
  });
}
