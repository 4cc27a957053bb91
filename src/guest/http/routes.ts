/**
 * envd's plain-HTTP endpoints beside the RPC services: /health, /files, /envs, /metrics, /init;
 * and agentbox's own /start-command, which the host reads while it waits for the ready check
 * (start-command.ts). Errors leave through sendError only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { requireToken } from '../auth.ts';
import { getFiles } from './files-get.ts';
import { postFiles, type FileWriteDeps } from './files-post.ts';
import { postInit } from './init.ts';
import { createMetricsReader } from './metrics.ts';
import { sendError, sendJson } from './respond.ts';
import { ACCESS_TOKEN_HEADER, START_COMMAND_PATH } from '../../api/envd-protocol.ts';
import type { StartCommandReport } from '../start-command.ts';

export function createRestHandler(g: FileWriteDeps, initSecret: string, startCommand?: StartCommandReport): (req: IncomingMessage, res: ServerResponse) => void {
  const metrics = createMetricsReader();
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
        requireToken(g, req.headers[ACCESS_TOKEN_HEADER] as string | undefined);
        return sendJson(res, 200, g.state.envVars);
      case 'GET /metrics':
        requireToken(g, req.headers[ACCESS_TOKEN_HEADER] as string | undefined);
        return sendJson(res, 200, metrics());
      case `GET ${START_COMMAND_PATH}`:
        requireToken(g, req.headers[ACCESS_TOKEN_HEADER] as string | undefined);
        if (!startCommand) throw new AgentboxError('not_found', 'this sandbox has no start command');
        return sendJson(res, 200, startCommand.view());
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
