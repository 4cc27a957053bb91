/**
 * POST /init: the engine re-keys a sandbox after restoring a fork or snapshot (same memory,
 * new identity): replaces the access token and the init secret itself, and merges sandbox-wide
 * env vars. Guarded by the init secret from the guest config, never by the access token it
 * replaces; a restored copy gets a fresh secret, so knowing the source's opens no other sandbox.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod/mini';
import { describeIssues } from '../config.ts';
import { INIT_SECRET_HEADER } from '../../api/envd-protocol.ts';
import { AgentboxError } from '../../api/errors.ts';
import type { GuestContext } from '../context.ts';
import { readJsonBody } from './respond.ts';

export const InitBodySchema = z.object({
  accessToken: z.optional(z.string().check(z.minLength(1))),
  /** The secret that guards the next /init. */
  initSecret: z.optional(z.string().check(z.minLength(16))),
  envVars: z.optional(z.record(z.string(), z.string())),
});
export type InitBody = z.infer<typeof InitBodySchema>;

/** The current init secret; /init may replace it. */
export interface InitSecret { value: string }

/** Constant time: compared as digests, so neither content nor length leaks by timing. */
function secretMatches(given: string | string[] | undefined, want: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(want));
}

export async function postInit(g: GuestContext, secret: InitSecret, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!secretMatches(req.headers[INIT_SECRET_HEADER], secret.value)) {
    throw new AgentboxError('unauthenticated', `missing or wrong ${INIT_SECRET_HEADER}`);
  }
  let raw: unknown;
  try {
    raw = await readJsonBody(req);
  } catch (err) {
    throw err instanceof AgentboxError ? err : new AgentboxError('invalid_argument', 'init body must be JSON', { cause: err });
  }
  const parsed = InitBodySchema.safeParse(raw);
  if (!parsed.success) throw new AgentboxError('invalid_argument', `bad init body: ${describeIssues(parsed.error)}`);
  if (parsed.data.accessToken !== undefined) g.state.accessToken = parsed.data.accessToken;
  if (parsed.data.initSecret !== undefined) secret.value = parsed.data.initSecret;
  if (parsed.data.envVars) g.state.envVars = { ...g.state.envVars, ...parsed.data.envVars };
  // A restored copy's console starts here: its boot's "guest listening" is in its source's.
  g.log.info('guest re-keyed', { accessToken: parsed.data.accessToken !== undefined, envVars: Object.keys(parsed.data.envVars ?? {}).length });
  res.writeHead(204).end();
}
