/**
 * The v1_ signature of envd's shareable `/files` URLs (the E2B SDKs' `downloadUrl`/`uploadUrl`,
 * `getSignature` in the npm `e2b` package): both ends compute it, the guest daemon to admit a
 * signed request (src/guest/auth.ts) and the E2B façade to find which sandbox a signed URL that
 * names none is for (src/gateway/e2b/signed-files.ts).
 */
import { createHash } from 'node:crypto';

export type FileOperation = 'read' | 'write';

/** v1_ + base64(sha256("<path>:<op>:<username>:<token>[:<expiration>]")) without padding. */
export function fileSignature(path: string, op: FileOperation, username: string, token: string, expiration?: number): string {
  const parts = [path, op, username, token];
  if (expiration !== undefined) parts.push(String(expiration));
  return 'v1_' + createHash('sha256').update(parts.join(':')).digest('base64').replace(/=+$/, '');
}
