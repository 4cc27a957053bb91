/**
 * execd's routes (OpenSandbox `specs/execd-api.yaml`), one handler module each (docs/architecture.md,
 * rule “one RPC per module”); this module only matches routes and holds the shared state.
 */
import { sendEmpty } from '../http/respond.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { createMetricsReader } from '../http/metrics.ts';
import type { ProcessDeps } from '../process/deps.ts';
import { resolveUser } from '../auth.ts';
import { requireExecdToken } from './auth.ts';
import { prepareEnvFile } from './env-file.ts';
import { createContext, deleteContexts, deleteOneContext, getContext, getContexts } from './code-contexts.ts';
import { runCode } from './code-run.ts';
import { interruptCommand } from './command-interrupt.ts';
import { commandLogs } from './command-logs.ts';
import { runCommand } from './command-run.ts';
import { commandStatus } from './command-status.ts';
import { CommandStore } from './commands.ts';
import type { ExecdDeps } from './deps.ts';
import { createDirectories } from './directories-create.ts';
import { deleteDirectories } from './directories-delete.ts';
import { listDirectory } from './directories-list.ts';
import { execdError, refuseUpgrade, sendExecdError } from './errors.ts';
import { deleteFiles } from './files-delete.ts';
import { downloadFile } from './files-download.ts';
import { filesInfo } from './files-info.ts';
import { moveFiles } from './files-move.ts';
import { setPermissions } from './files-permissions.ts';
import { replaceContents } from './files-replace.ts';
import { searchFiles } from './files-search.ts';
import { uploadFiles } from './files-upload.ts';
import { getMetrics, watchMetrics } from './metrics.ts';
import { attachPty } from './pty-attach.ts';
import { createPty } from './pty-create.ts';
import { deletePty } from './pty-delete.ts';
import { ptyStatus } from './pty-status.ts';
import { createSession } from './session-create.ts';
import { deleteSession } from './session-delete.ts';
import { runInSession } from './session-run.ts';

export interface ExecdHandler {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** An HTTP upgrade: only GET /pty/{id}/ws accepts one. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

async function route(d: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://execd');
  const key = `${req.method} ${url.pathname}`;
  if (key === 'GET /ping') return sendEmpty(res);
  requireExecdToken(d, req);
  switch (key) {
    case 'POST /command': return runCommand(d, req, res);
    case 'DELETE /command': return interruptCommand(d, url, res);
    case 'POST /session': return createSession(d, req, res);
    case 'POST /pty': return createPty(d, req, res);
    case 'POST /code/context': return createContext(d, req, res);
    case 'GET /code/contexts': return getContexts(d, url, res);
    case 'DELETE /code/contexts': return deleteContexts(d, url, res);
    case 'POST /code': return runCode(d, req, res);
    case 'GET /files/info': return filesInfo(d, url, res);
    case 'DELETE /files': return deleteFiles(d, url, res);
    case 'POST /files/permissions': return setPermissions(d, req, res);
    case 'POST /files/mv': return moveFiles(d, req, res);
    case 'GET /files/search': return searchFiles(d, url, res);
    case 'POST /files/replace': return replaceContents(d, req, url, res);
    case 'POST /files/upload': return uploadFiles(d, req, res);
    case 'GET /files/download': return downloadFile(d, req, url, res);
    case 'GET /directories/list': return listDirectory(d, url, res);
    case 'POST /directories': return createDirectories(d, req, res);
    case 'DELETE /directories': return deleteDirectories(d, url, res);
    case 'GET /metrics': return getMetrics(d, res);
    case 'GET /metrics/watch': return watchMetrics(d, req, res);
  }
  const seg = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (req.method === 'GET' && seg.length === 3 && seg[0] === 'command' && seg[1] === 'status') return commandStatus(d, seg[2]!, res);
  if (req.method === 'GET' && seg.length === 3 && seg[0] === 'command' && seg[2] === 'logs') return commandLogs(d, seg[1]!, url, res);
  if (req.method === 'POST' && seg.length === 3 && seg[0] === 'session' && seg[2] === 'run') return runInSession(d, seg[1]!, req, res);
  if (req.method === 'DELETE' && seg.length === 2 && seg[0] === 'session') return deleteSession(d, seg[1]!, res);
  if (seg.length === 2 && seg[0] === 'pty') {
    if (req.method === 'GET') return ptyStatus(d, seg[1]!, res);
    if (req.method === 'DELETE') return deletePty(d, seg[1]!, res);
  }
  if (seg.length === 3 && seg[0] === 'pty' && seg[2] === 'ws') throw execdError('invalid_argument', 'INVALID_REQUEST_BODY', `${url.pathname} is a WebSocket: send the request with Upgrade: websocket`);
  if (seg.length === 3 && seg[0] === 'code' && seg[1] === 'contexts') {
    if (req.method === 'GET') return getContext(d, seg[2]!, res);
    if (req.method === 'DELETE') return deleteOneContext(d, seg[2]!, res);
  }
  if (key === 'DELETE /code') throw execdError('not_supported', 'NOT_SUPPORTED', 'interrupting code is not supported: the code interpreter has no interrupt; delete the context instead');
  throw execdError('not_found', 'NOT_SUPPORTED', `execd has no route ${key}`);
}

export function createExecdHandler(p: ProcessDeps, codeInterpreterUrl: string, envFile?: string): ExecdHandler {
  const deps: ExecdDeps = { ...p, commands: new CommandStore(), sessions: new Map(), ptys: new Map(), metrics: createMetricsReader(), codeInterpreterUrl, envFile };
  if (envFile) {
    // A read-only image must not stop the guest: commands then run without the file.
    try { prepareEnvFile(envFile, resolveUser(p, undefined)); } catch (err) { p.log.error('execd env file not created', { path: envFile, error: (err as Error).message }); }
  }
  // ws is loaded with the first upgrade: it is CommonJS, which esbuild wraps in a lazy initialiser
  // anyway, so deferring it adds nothing to the bundle, and a guest that serves no PTY does not
  // pay for it (measured on the bundled guest, idle VmRSS: 56.4–56.5 MiB before PTY support,
  // 56.7–57.0 MiB with ws imported up front, 56.3–56.7 MiB loaded on first upgrade; see
  // docs/opensandbox-execd.md, Memory). noServer: the listener hands upgrades over itself.
  let wss: Promise<WebSocketServer> | undefined;
  const webSockets = () => (wss ??= import('ws').then((m) => new m.WebSocketServer({ noServer: true })));
  return {
    request(req, res) {
      route(deps, req, res).catch((err) => sendExecdError(res, err));
    },
    upgrade(req, socket, head) {
      webSockets().then((w) => upgradeRoute(deps, w, req, socket, head)).catch((err) => refuseUpgrade(socket, err));
    },
  };
}

async function upgradeRoute(d: ExecdDeps, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://execd');
  requireExecdToken(d, req);
  const seg = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (req.method === 'GET' && seg.length === 3 && seg[0] === 'pty' && seg[2] === 'ws') return attachPty(d, wss, seg[1]!, url, req, socket, head);
  throw execdError('not_found', 'NOT_SUPPORTED', `execd has no WebSocket route ${url.pathname}`);
}
