/**
 * E2B's Volumes API (src/api/e2b-volumes.ts) over the backend's volumes: the control routes
 * (`/volumes`, with the API key) and the content routes (`/volumecontent/{id}/dir|path|file`,
 * with the volume's token), in E2B's status codes: create 201, list and get 200, delete 204;
 * content: list, stat, patch and read 200, mkdir and write 201, remove 204. Translation only;
 * the files are the backend's (server/volumes/volume-files.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ContentQuery, CONTENT_PATH_RE, MetadataPatch, NewVolume, VOLUME_ID_RE, VOLUMES_PATH_RE } from '../../api/e2b-volumes.ts';
import { AgentboxError, asAgentboxError, invalidArgument } from '../../api/errors.ts';
import type { Principal, SandboxBackend } from '../../server/backend.ts';
import { parseBody, parseQuery } from '../request.ts';
import { sendJson } from './errors.ts';

const MAX_JSON = 64 * 1024;

const bearer = (req: IncomingMessage) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

function volumeId(raw: string): string {
  if (!VOLUME_ID_RE.test(raw)) throw invalidArgument('Invalid volume ID');
  return raw;
}

const andToken = (v: { id: string; name: string; token: string }) => ({ volumeID: v.id, name: v.name, token: v.token });

/** The content API's error body: E2B's `{code, message}` with agentbox's machine-readable code. */
function sendContentError(res: ServerResponse, err: unknown): void {
  const e = asAgentboxError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.httpStatus, { code: e.code, message: e.message });
}

/** `volumeMounts` of an E2B create body as the backend's `volumes`. */
export function volumeMountsOf(body: Record<string, unknown>): { volumes?: { name: string; path: string }[] } {
  const m = body.volumeMounts;
  if (m === undefined || m === null) return {};
  if (!Array.isArray(m) || m.some((x) => typeof x?.name !== 'string' || typeof x?.path !== 'string')) throw invalidArgument('volumeMounts must be a list of {name, path}');
  return { volumes: (m as { name: string; path: string }[]).map(({ name, path }) => ({ name, path })) };
}

/** Serves a volume route at `path` (under the control API's mount); false when `path` is not one. */
export async function handleVolumes(backend: SandboxBackend, req: IncomingMessage, res: ServerResponse, path: string, principal: () => Principal): Promise<boolean> {
  const u = new URL(path, 'http://x');
  const content = CONTENT_PATH_RE.exec(u.pathname);
  if (content) {
    try {
      await serveContent(backend, req, res, volumeId(content[1]!), content[2] as 'dir' | 'path' | 'file', u.searchParams);
    } catch (err) {
      sendContentError(res, err);
    }
    return true;
  }
  const control = VOLUMES_PATH_RE.exec(u.pathname);
  if (!control) return false;
  const v = backend.volumes;
  const method = req.method ?? 'GET';
  const id = control[1];
  if (id === undefined && method === 'GET') sendJson(res, 200, v.list(principal()).map((x) => ({ volumeID: x.id, name: x.name })));
  else if (id === undefined && method === 'POST') {
    const p = principal();
    const body = await parseBody(req, NewVolume, MAX_JSON);
    sendJson(res, 201, andToken(await v.create(p, body.name)));
  } else if (id !== undefined && method === 'GET') {
    const p = principal();
    sendJson(res, 200, andToken(v.get(p, volumeId(id))));
  } else if (id !== undefined && method === 'DELETE') {
    const p = principal();
    await v.delete(p, volumeId(id));
    res.writeHead(204).end();
  } else throw invalidArgument(`${method} is not allowed on ${u.pathname}`);
  return true;
}

async function serveContent(backend: SandboxBackend, req: IncomingMessage, res: ServerResponse, id: string, kind: 'dir' | 'path' | 'file', search: URLSearchParams): Promise<void> {
  const files = backend.volumes.content(id, bearer(req));
  const q = parseQuery(ContentQuery, search, { firstOfRepeated: true, toError: (e) => invalidArgument(e.issues[0]?.message ?? 'invalid query') });
  const own = { ...(q.uid !== undefined ? { uid: q.uid } : {}), ...(q.gid !== undefined ? { gid: q.gid } : {}), ...(q.mode !== undefined ? { mode: q.mode } : {}) };
  const method = req.method ?? 'GET';
  const route = `${method} ${kind}`;
  switch (route) {
    case 'GET dir': return sendJson(res, 200, files.list(q.path, q.depth ?? 1));
    case 'POST dir': return sendJson(res, 201, files.mkdir(q.path, own, q.force ?? false));
    case 'GET path': return sendJson(res, 200, files.stat(q.path));
    case 'PATCH path': {
      const b = await parseBody(req, MetadataPatch, MAX_JSON);
      return sendJson(res, 200, files.setMetadata(q.path, { ...(b.uid != null ? { uid: b.uid } : {}), ...(b.gid != null ? { gid: b.gid } : {}), ...(b.mode != null ? { mode: b.mode } : {}) }));
    }
    case 'DELETE path':
      files.remove(q.path);
      res.writeHead(204).end();
      return;
    case 'GET file': {
      const { size, stream } = files.read(q.path);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) });
      await pipeline(stream, res);
      return;
    }
    case 'PUT file': return sendJson(res, 201, await files.write(q.path, req, own));
    default: throw new AgentboxError('invalid_argument', `${method} is not allowed on /volumecontent/{volumeID}/${kind}`);
  }
}
