/** The user a /files request acts as: `username` query, else Basic auth, else the default user. */
import type { IncomingMessage } from 'node:http';
import { basicAuthUser, requireFileAccess, resolveUser } from '../auth.ts';
import type { GuestContext } from '../context.ts';
import { AgentboxError } from '../../api/errors.ts';
import type { OsUser } from '../users.ts';
import { ACCESS_TOKEN_HEADER } from '../../api/envd-protocol.ts';

export interface FileRequest {
  user: OsUser;
  /** The `path` query exactly as sent (what signatures are computed over); undefined when absent. */
  rawPath?: string;
}

export function authorizeFileRequest(g: GuestContext, req: IncomingMessage, url: URL, op: 'read' | 'write', nowMs: number): FileRequest {
  const q = url.searchParams;
  const name = q.get('username') || basicAuthUser(req.headers.authorization) || undefined;
  const rawPath = q.get('path') ?? undefined;
  requireFileAccess(g, {
    token: req.headers[ACCESS_TOKEN_HEADER] as string | undefined,
    signature: q.get('signature'),
    expiration: q.get('signature_expiration'),
    path: rawPath ?? '',
    op,
    username: name ?? '',
    nowMs,
  });
  return { user: resolveUser(g, name), rawPath };
}

export function requirePath(f: FileRequest): string {
  if (!f.rawPath) throw new AgentboxError('invalid_argument', 'query parameter path is required');
  return f.rawPath;
}
