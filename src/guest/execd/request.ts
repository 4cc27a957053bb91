/** Reading an execd request: its JSON body checked by a schema, and required query parameters. */
import type { IncomingMessage } from 'node:http';
import type * as z from 'zod/mini';
import { AgentboxError } from '../../api/errors.ts';
import { describeIssues } from '../config.ts';
import { readJsonBody } from '../http/respond.ts';
import { execdError } from './errors.ts';

/**
 * A JSON document with its `null` members dropped: the Python SDK sends every unset optional
 * field as `null` (`"owner": null`), which means the same as leaving it out.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

/** The body parsed by `schema`; malformed JSON or a wrong shape is 400 INVALID_REQUEST_BODY. */
export async function readBody<T extends z.ZodMiniType>(req: IncomingMessage, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await readJsonBody(req);
  } catch (err) {
    if (err instanceof AgentboxError) throw err;
    throw new AgentboxError('invalid_argument', `the request body is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(withoutNulls(raw));
  if (!parsed.success) throw new AgentboxError('invalid_argument', `invalid request body: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Every value of a repeatable query parameter; none is 400 MISSING_QUERY. */
export function requireQuery(url: URL, name: string): string[] {
  const values = url.searchParams.getAll(name).filter((v) => v !== '');
  if (values.length === 0) throw execdError('invalid_argument', 'MISSING_QUERY', `query parameter '${name}' is required`);
  return values;
}
