/** Query strings and JSON bodies through a route's schemas (native and E2B alike). */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import type { AgentboxError } from '../api/errors.ts';
import { isRepeated } from '../api/route.ts';
import { readJson } from './body.ts';
import { fromZod } from './errors.ts';

/**
 * The query through its schema. Fields declared `repeated` get every value; any other field gets
 * its one value, or, when repeated, all of them (refused by the schema) or with `firstOfRepeated`
 * the first (URLSearchParams.get, what E2B's API does). `toError` words a refusal (default: the
 * native API's, naming the field).
 */
export function parseQuery<Q extends z.ZodObject>(schema: Q, search: URLSearchParams, opts: { firstOfRepeated?: boolean; toError?: (e: z.ZodError) => AgentboxError } = {}): z.output<Q> {
  const shape = schema.shape as Record<string, z.ZodType>;
  // Keys come from the client: only the schema's own fields count (`toString`, `__proto__` are
  // not fields), and the object is built from entries so no key can set its prototype.
  const raw = Object.fromEntries([...new Set(search.keys())].map((key) => {
    const all = search.getAll(key);
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    return [key, field && isRepeated(field) ? all : all.length === 1 || opts.firstOfRepeated ? all[0] : all];
  }));
  const r = schema.safeParse(raw);
  if (!r.success) throw (opts.toError ?? ((e) => fromZod(e, 'query')))(r.error);
  return r.data;
}

/** The JSON body through its schema. */
export async function parseBody<B extends z.ZodType>(req: IncomingMessage, schema: B, maxBytes: number, timeoutMs?: number): Promise<z.output<B>> {
  const parsed = schema.safeParse(await readJson(req, maxBytes, timeoutMs));
  if (!parsed.success) throw fromZod(parsed.error, 'body');
  return parsed.data;
}
