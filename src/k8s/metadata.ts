// Label/annotation filtering shared by the reconcilers.
import { RESERVED_KEYS, RESERVED_PREFIXES } from '../api/k8s/constants.ts';

/** Drops system-reserved keys a tenant may not set through podTemplate metadata. */
export function withoutReserved(map: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (RESERVED_KEYS.includes(k) || RESERVED_PREFIXES.some((p) => k.startsWith(p))) continue;
    out[k] = v;
  }
  return out;
}

export function sortedKeys(map: Record<string, string>): string {
  return Object.keys(map).sort().join(',');
}

export function splitKeys(list: string | undefined): string[] {
  return list ? list.split(',').filter(Boolean) : [];
}
