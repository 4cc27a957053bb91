// `--name=value`, `--name value` and bare boolean `--name` flags, with typed defaults.
import { AgentboxError } from '../api/errors.ts';

export type FlagSpec = Record<string, string | number | boolean>;
export type Flags<T extends FlagSpec> = { [K in keyof T]: T[K] extends boolean ? boolean : T[K] extends number ? number : string };

export function parseFlags<T extends FlagSpec>(args: string[], spec: T): Flags<T> {
  const out: Record<string, string | number | boolean> = { ...spec };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new AgentboxError('invalid_argument', `unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!(name in spec)) throw new AgentboxError('invalid_argument', `unknown flag --${name}; known: ${Object.keys(spec).map((k) => `--${k}`).join(' ')}`);
    const kind = typeof spec[name];
    let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    if (value === undefined && kind !== 'boolean') value = args[++i];
    if (kind === 'boolean') out[name] = value === undefined ? true : value === 'true';
    else if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new AgentboxError('invalid_argument', `--${name} needs a number`);
      out[name] = n;
    } else {
      if (value === undefined) throw new AgentboxError('invalid_argument', `--${name} needs a value`);
      out[name] = value;
    }
  }
  return out as Flags<T>;
}

/** ":8080" or "127.0.0.1:8080" → host/port; "0" disables. */
export function parseBind(addr: string): { host: string; port: number } | null {
  if (addr === '0' || addr === '') return null;
  const i = addr.lastIndexOf(':');
  return { host: i > 0 ? addr.slice(0, i) : '0.0.0.0', port: Number(addr.slice(i + 1)) };
}
