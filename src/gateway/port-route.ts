/**
 * Which sandbox port a request is for: by path `/v1/sandboxes/{id}/ports/{port}/<rest>`, or by
 * host `<port>-<id>.<domain>`. Shared by the native proxy and the E2B façade (which takes
 * host-routed guest traffic carrying a sandbox's token).
 */
import { AgentboxError } from '../api/errors.ts';
import { SANDBOX_ID_PATTERN } from '../api/ids.ts';

export interface PortRoute { id: string; port: number; path: string; viaHost: boolean }

const PATH_RE = new RegExp(`^/v1/sandboxes/(${SANDBOX_ID_PATTERN})/ports/(\\d{1,5})(/.*)?$`);
const HOST_RE = new RegExp(`^(\\d{1,5})-(${SANDBOX_ID_PATTERN})$`);

/** The sandbox port a request is for, or undefined when it is an ordinary API request. */
export function portRoute(url: string, host: string | undefined, domain: string | undefined): PortRoute | undefined {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q);
  const m = PATH_RE.exec(pathname);
  if (m) return { id: m[1]!, port: checkPort(m[2]!), path: (m[3] ?? '/') + search, viaHost: false };
  if (!domain || !host) return undefined;
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  if (!hostname.endsWith(`.${domain}`)) return undefined;
  const hm = HOST_RE.exec(hostname.slice(0, -domain.length - 1));
  return hm ? { id: hm[2]!, port: checkPort(hm[1]!), path: url, viaHost: true } : undefined;
}

function checkPort(s: string): number {
  const port = Number(s);
  if (port < 1 || port > 65535) throw new AgentboxError('invalid_argument', `port ${s} is out of range 1-65535`);
  return port;
}
