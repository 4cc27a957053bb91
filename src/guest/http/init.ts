/**
 * POST /init: the engine re-keys a sandbox after restoring a fork or snapshot (same memory,
 * new identity): replaces the access token and merges sandbox-wide env vars. Guarded by the
 * init secret from the guest config, never by the access token it replaces.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod/mini';
import { describeIssues } from '../config.ts';
import { AgentboxError } from '../../api/errors.ts';
import type { GuestContext } from '../context.ts';
import { readJsonBody } from './respond.ts';

export const InitBodySchema = z.object({
  accessToken: z.optional(z.string().check(z.minLength(1))),
  envVars: z.optional(z.record(z.string(), z.string())),
});
export type InitBody = z.infer<typeof InitBodySchema>;

export const INIT_SECRET_HEADER = 'x-agentbox-init-secret';

export async function postInit(g: GuestContext, initSecret: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.headers[INIT_SECRET_HEADER] !== initSecret) {
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
  if (parsed.data.envVars) g.state.envVars = { ...g.state.envVars, ...parsed.data.envVars };
  res.writeHead(204).end();
}
