/**
 * Where the SDK and the CLI find the server and the key: options, then `AGENTBOX_URL` /
 * `AGENTBOX_API_KEY`, then the local server started by `agentbox up` (127.0.0.1:7420 and
 * `$AGENTBOX_HOME/admin.key`, AGENTBOX_HOME defaulting to ~/.agentbox).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationError } from './errors.ts';

export interface ConnectionOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:7420 */
  apiUrl?: string;
  apiKey?: string;
  /** Base domain for host routing (`<port>-<id>.<domain>`), used by `getHost`. */
  domain?: string;
  /** Per-request timeout of control calls, ms (default 60 000; 0 = none). A file transfer fails only when no byte moves for this long. */
  requestTimeoutMs?: number;
}

export interface ResolvedConnection {
  apiUrl: string;
  apiKey: string;
  domain?: string;
  requestTimeoutMs: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:7420';

export function agentboxHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AGENTBOX_HOME || join(homedir(), '.agentbox');
}

export function resolveConnection(o: ConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const apiUrl = (o.apiUrl ?? env.AGENTBOX_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  let apiKey = o.apiKey ?? env.AGENTBOX_API_KEY;
  if (!apiKey) {
    const file = join(agentboxHome(env), 'admin.key');
    if (existsSync(file)) apiKey = readFileSync(file, 'utf8').trim();
  }
  if (!apiKey) throw new AuthenticationError('unauthenticated', `no API key: pass apiKey, set AGENTBOX_API_KEY, or run \`agentbox up\` (it writes ${join(agentboxHome(env), 'admin.key')})`);
  const r: ResolvedConnection = { apiUrl, apiKey, requestTimeoutMs: o.requestTimeoutMs ?? 60_000 };
  const domain = o.domain ?? env.AGENTBOX_DOMAIN;
  if (domain) r.domain = domain;
  return r;
}
