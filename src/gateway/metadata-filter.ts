/** The metadata filter of list queries, shared by the native and the E2B façades. */
import { AgentboxError } from '../api/errors.ts';

/** `k=v&k2=v2` strings (each part URL-encoded, E2B style) → one map; all pairs must match. */
export function parseMetadataFilter(items: string[] | undefined): Record<string, string> | undefined {
  if (!items?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    for (const pair of item.split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new AgentboxError('invalid_argument', `metadata filter '${pair}' must look like key=value`);
      try {
        out[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
      } catch {
        throw new AgentboxError('invalid_argument', `metadata filter '${pair}' is not valid URL encoding`);
      }
    }
  }
  return out;
}
