/**
 * The one function that owns the wire shape of a native-API error: `{code, message, details?}`
 * with the status of the error's code (src/api/errors.ts). Everything thrown is translated here.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { AgentboxError, asAgentboxError } from '../api/errors.ts';
import { endUpgrade, sendJson } from './respond.ts';

export function sendError(res: ServerResponse, err: unknown): void {
  const e = asAgentboxError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.httpStatus, e.toJSON());
}

/** The same body on the socket of a refused upgrade. */
export function sendUpgradeError(socket: Duplex, err: unknown): void {
  const e = asAgentboxError(err);
  endUpgrade(socket, e.httpStatus, e.code, e.toJSON());
}

/** A zod failure as invalid_argument naming the first offending field. */
export function fromZod(err: z.ZodError, where: string): AgentboxError {
  const first = err.issues[0];
  const path = first?.path.length ? first.path.join('.') : where;
  return new AgentboxError('invalid_argument', `${where}: ${path}: ${first?.message ?? 'invalid'}`, {
    details: { issues: err.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}
