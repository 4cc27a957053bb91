/**
 * Who may call execd: the sandbox's access token, the same secret envd checks (src/guest/auth.ts),
 * in OpenSandbox's X-EXECD-ACCESS-TOKEN header or envd's X-Access-Token, so a proxy that already
 * adds envd's header reaches execd too. /ping is open, like envd's /health: readiness polls carry
 * no secret and learn nothing.
 */
import type { IncomingMessage } from 'node:http';
import { ACCESS_TOKEN_HEADER } from '../../api/envd-protocol.ts';
import { EXECD_TOKEN_HEADER } from '../../api/opensandbox-execd.ts';
import { AgentboxError } from '../../api/errors.ts';
import { tokenAccepted } from '../auth.ts';
import type { GuestContext } from '../context.ts';

export function requireExecdToken(g: GuestContext, req: IncomingMessage): void {
  const given = (req.headers[EXECD_TOKEN_HEADER] ?? req.headers[ACCESS_TOKEN_HEADER]) as string | undefined;
  if (!tokenAccepted(g, given)) {
    throw new AgentboxError('unauthenticated', 'missing or wrong X-EXECD-ACCESS-TOKEN; send the access token of this sandbox');
  }
}
