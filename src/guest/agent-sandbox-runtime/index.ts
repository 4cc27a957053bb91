// The agent-sandbox in-pod runtime protocol (kubernetes-sigs/agent-sandbox "python-runtime"),
// served by the agentbox guest on port 8888 so upstream clients (PyPI k8s-agent-sandbox, the
// Go SDK, the MCP server) work against agentbox pods unchanged:
//   GET /  ·  POST /execute  ·  POST /upload  ·  GET /download/{path}  ·  GET /list/{path}  ·
//   GET /exists/{path}
// Paths are confined to the base directory (SANDBOX_BASE_DIR, default /app) by realpath. No auth:
// the pod's NetworkPolicy admits only the router.
import http from 'node:http';
import { openSync } from 'node:fs';
import { makeDirs } from '../filesystem/make-dirs.ts';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { confine } from './paths.ts';
import { execute } from './execute.ts';
import { fdSink } from '../filesystem/fd-sink.ts';
import { AgentboxError } from '../../api/errors.ts';
import { fileBytes } from '../../api/file-bytes.ts';

export interface AgentSandboxRuntimeOptions {
  port: number;
  host?: string;
  /** Defaults to $SANDBOX_BASE_DIR or /app. */
  baseDir?: string;
}

export interface RunningAgentSandboxRuntime {
  port: number;
  close(): Promise<void>;
}

const MAX_JSON = 1024 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size > MAX_JSON) { reject(new AgentboxError('invalid_argument', `request body exceeds ${MAX_JSON} bytes`)); req.destroy(); } else chunks.push(c); });
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e); } });
    req.on('error', reject);
  });
}

const pathParam = (url: string, prefix: string) => decodeURIComponent(url.slice(prefix.length).split('?')[0] ?? '');

async function handle(base: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && (url === '/' || url.startsWith('/?'))) {
    send(res, 200, { status: 'ok', message: 'Sandbox Runtime is active.' });
  } else if (req.method === 'POST' && url.split('?')[0] === '/execute') {
    const body = await readJson(req).catch(() => null) as { command?: unknown; timeout_seconds?: unknown } | null;
    if (!body || typeof body.command !== 'string') { send(res, 422, { detail: 'body must be {"command": string}' }); return; }
    const defaultLimit = Number(process.env.SANDBOX_EXEC_TIMEOUT_SECONDS ?? 300);
    const limit = typeof body.timeout_seconds === 'number' && body.timeout_seconds > 0 ? body.timeout_seconds : defaultLimit;
    send(res, 200, await execute(body.command, base, limit));
  } else if (req.method === 'POST' && url.split('?')[0] === '/upload') {
    await upload(base, req, res);
  } else if (req.method === 'GET' && url.startsWith('/download/')) {
    const p = await confine(base, pathParam(url, '/download/'));
    const st = p ? await stat(p).catch(() => null) : null;
    if (!p || !st?.isFile()) { send(res, 404, { message: 'File not found' }); return; }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
    fileBytes(p, st.size).pipe(res);
  } else if (req.method === 'GET' && url.startsWith('/list/')) {
    const p = await confine(base, pathParam(url, '/list/'));
    const st = p ? await stat(p).catch(() => null) : null;
    if (!p || !st?.isDirectory()) { send(res, 404, { message: 'Directory not found' }); return; }
    const entries = await Promise.all((await readdir(p)).sort().map(async (name) => {
      const s = await stat(join(p, name)).catch(() => null);
      return s ? { name, size: s.size, type: s.isDirectory() ? 'directory' : 'file', mod_time: s.mtimeMs / 1000 } : null;
    }));
    send(res, 200, entries.filter(Boolean));
  } else if (req.method === 'GET' && url.startsWith('/exists/')) {
    const rel = pathParam(url, '/exists/');
    const p = await confine(base, rel);
    send(res, 200, { path: rel, exists: p ? !!(await stat(p).catch(() => null)) : false });
  } else {
    send(res, 404, { detail: 'Not Found' });
  }
}

function upload(base: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try { parser = busboy({ headers: req.headers, limits: { files: 1 }, preservePath: true }); } catch {
      send(res, 400, { message: 'multipart/form-data with a "file" field expected' });
      resolve();
      return;
    }
    let pending: Promise<{ status: number; body: unknown }> | null = null;
    parser.on('file', (field, stream, info) => {
      if (field !== 'file' || pending) { stream.resume(); return; }
      pending = (async () => {
        const dest = await confine(base, info.filename ?? '');
        if (!dest || !info.filename) { stream.resume(); return { status: 403, body: { message: 'Path is outside the sandbox base directory' } }; }
        makeDirs(dirname(dest));
        // Temp file + rename: a reader never sees half a file.
        const tmp = `${dest}.upload-${process.pid}-${Date.now()}`;
        await pipeline(stream, fdSink(openSync(tmp, 'w')));
        await rename(tmp, dest);
        return { status: 200, body: { message: `File '${info.filename}' uploaded successfully.` } };
      })();
    });
    parser.on('close', () => {
      void (pending ?? Promise.resolve({ status: 422, body: { message: 'missing "file" field' } }))
        .catch((e: Error) => ({ status: 500, body: { message: e.message } }))
        .then(({ status, body }) => { send(res, status, body); resolve(); });
    });
    parser.on('error', () => { send(res, 400, { message: 'malformed multipart body' }); resolve(); });
    req.pipe(parser);
  });
}

export async function startAgentSandboxRuntime(opts: AgentSandboxRuntimeOptions): Promise<RunningAgentSandboxRuntime> {
  const base = opts.baseDir ?? process.env.SANDBOX_BASE_DIR ?? '/app';
  await mkdir(base, { recursive: true });
  const server = http.createServer((req, res) => {
    handle(base, req, res).catch((e: Error) => { if (!res.headersSent) send(res, 500, { message: e.message }); else res.destroy(); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
