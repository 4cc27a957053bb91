/**
 * Path rules for traffic into sandboxes, decided on the path in the one form a server would act
 * on (canonicalPath):
 * - routes of the guest daemon that only the engine may call (envd's control routes, pushed by
 *   E2B's orchestrator; here `/init` re-keys a restored sandbox) are refused with 404 from
 *   outside, as E2B's proxy does;
 * - the code interpreter's `/execute` runs code, so anonymous requests need the guest's
 *   X-Access-Token, which E2B's code-interpreter SDKs send on exactly that route.
 */
import { HEAP_SETTLED_PATH, START_COMMAND_PATH } from '../api/envd-protocol.ts';
import { AgentboxError } from '../api/errors.ts';

// agentbox's own GET /start-command and GET /heap-settled are the engine's too: no SDK calls them.
const INTERNAL_ROUTES = new Set(['/init', '/upgrade', '/freeze', '/unfreeze', '/collapse', '/fsfreeze', '/fsthaw', START_COMMAND_PATH, HEAP_SETTLED_PATH]);

/**
 * The path a server would resolve: percent-escapes decoded, empty and `.` segments dropped, `..`
 * applied, no trailing slash. `/./init`, `//init`, `/init/`, `/%69nit` and `/x/../init` are all
 * `/init`. A path that does not decode is refused rather than guessed at.
 */
export function canonicalPath(path: string): string {
  const pathname = path.split('?')[0]!.split('#')[0]!;
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new AgentboxError('invalid_argument', `path '${pathname}' is not valid URL encoding`);
    }
    // A decoded slash or backslash would be a separator to some servers: split on it too.
    for (const part of seg.split(/[/\\]/)) {
      if (part === '' || part === '.') continue;
      if (part === '..') out.pop();
      else out.push(part);
    }
  }
  return `/${out.join('/')}`;
}

export function isInternalRoute(path: string): boolean {
  return INTERNAL_ROUTES.has(canonicalPath(path));
}

/** Throws not_found for an internal route of the guest port. */
export function refuseInternal(port: number, guestPort: number, path: string): void {
  if (port === guestPort && isInternalRoute(path)) throw new AgentboxError('not_found', `${canonicalPath(path)} is internal to the sandbox`);
}

/** The E2B code interpreter's port (templates/code-interpreter-v1.yaml). */
export const CODE_INTERPRETER_PORT = 49999;

/** True when an anonymous request must carry the guest's X-Access-Token. */
export function needsAccessToken(port: number, path: string): boolean {
  return port === CODE_INTERPRETER_PORT && canonicalPath(path) === '/execute';
}
