/**
 * envd's plain-HTTP endpoints beside the RPC services: /health, /files, /envs, /metrics, /init;
 * and agentbox's own /start-command, which the host reads while it waits for the ready check
 * (start-command.ts), and /heap-settled, which a golden snapshot's builder waits for
 * (heap-settle.ts). Errors leave through sendError only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { requireToken } from '../auth.ts';
import { getFiles } from './files-get.ts';
import { postFiles, type FileWriteDeps } from './files-post.ts';
import { postInit } from './init.ts';
import { createMetricsReader } from './metrics.ts';
import { sendError, sendJson } from './respond.ts';
import { ACCESS_TOKEN_HEADER, HEAP_SETTLED_MAX_WAIT_MS, HEAP_SETTLED_PATH, START_COMMAND_PATH } from '../../api/envd-protocol.ts';
import { HeapSettle } from '../heap-settle.ts';
import type { StartCommandReport } from '../start-command.ts';

export function createRestHandler(g: FileWriteDeps, initSecret: string, startCommand?: StartCommandReport): (req: IncomingMessage, res: ServerResponse) => void {
  const metrics = createMetricsReader();
  const heap = new HeapSettle();
  const secret = { value: initSecret };
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://guest');
    const key = `${req.method} ${url.pathname}`;
    switch (key) {
      case 'GET /health':
        res.writeHead(204).end();
        return;
      case 'GET /files':
      case 'HEAD /files':
        return getFiles(g, req, res, url);
      case 'POST /files':
        return postFiles(g, req, res, url);
      case 'POST /init':
        return postInit(g, secret, req, res);
      case 'GET /envs':
        authorize(g, req);
        return sendJson(res, 200, g.state.envVars);
      case 'GET /metrics':
        authorize(g, req);
        return sendJson(res, 200, metrics());
      case `GET ${START_COMMAND_PATH}`:
        authorize(g, req);
        if (!startCommand) throw new AgentboxError('not_found', 'this sandbox has no start command');
        return sendJson(res, 200, startCommand.view());
      case `GET ${HEAP_SETTLED_PATH}`:
        authorize(g, req);
        return sendJson(res, 200, await heap.until(waitOf(url)));
      default:
        throw new AgentboxError('not_found', `no route ${key}`);
    }
  };
  return (req, res) => {
    route(req, res).catch((err) => {
      // A full disk on upload is envd's 507, which the SDK turns into NotEnoughSpaceError.
      sendError(res, err, req.method === 'POST' ? { resource_exhausted: 507 } : undefined);
    });
  };
}

/** The routes that need the sandbox's access token (its X-Access-Token header). */
function authorize(g: FileWriteDeps, req: IncomingMessage): void {
  requireToken(g, req.headers[ACCESS_TOKEN_HEADER] as string | undefined);
}

/** GET /heap-settled's `timeoutMs`: whole milliseconds up to HEAP_SETTLED_MAX_WAIT_MS; none is 0 (the status now). */
function waitOf(url: URL): number {
  const raw = url.searchParams.get('timeoutMs');
  if (raw === null) return 0;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms > HEAP_SETTLED_MAX_WAIT_MS) {
    throw new AgentboxError('invalid_argument', `timeoutMs must be whole milliseconds from 0 to ${HEAP_SETTLED_MAX_WAIT_MS}, got '${raw}'`);
  }
  return ms;
}
