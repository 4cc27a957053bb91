/**
 * `policy` and `tenant limits`: the server policy from the terminal (admin key). Limits are given
 * as `name=value` pairs (`runningSandboxes=5 runtimes=gvisor,runc`); `name=` removes one, so it
 * falls back to the defaults again. The server validates every value.
 */
import type { LimitsPatch, LimitsView, PolicyView, TenantLimitsView } from '../../api/native.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type CliIo, type Command } from '../io.ts';
import { client } from './sandboxes.ts';

/** `k=v` pairs applied over `base`: numbers as numbers, `runtimes` as a comma list, `k=` deletes. */
export function applyPairs(base: LimitsPatch, items: string[]): LimitsPatch {
  const out: Record<string, unknown> = { ...base };
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`'${item}' must look like limit=value (e.g. runningSandboxes=5)`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (value === '') delete out[key];
    else if (key === 'runtimes') out[key] = value.split(',').filter(Boolean);
    else if (Number.isFinite(Number(value))) out[key] = Number(value);
    else throw new UsageError(`${key} must be a number, got '${value}'`);
  }
  return out as LimitsPatch;
}

/** The usage figure shown beside a limit, where its name differs. */
const USAGE_OF: Record<string, string> = { concurrentBuilds: 'builds' };

function printLimits(io: CliIo, l: Partial<LimitsView>, usage?: Record<string, number>): void {
  for (const [k, v] of Object.entries(l)) {
    const inUse = usage?.[USAGE_OF[k] ?? k];
    const used = inUse === undefined ? '' : `  (in use: ${inUse})`;
    print(io, `  ${k.padEnd(20)} ${Array.isArray(v) ? v.join(',') : String(v)}${used}`);
  }
}

export const policy: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { bools, positionals } = parseFlags(rest, flagsOf('policy'));
  const api = client(io);
  if (sub === 'set' && positionals.length > 0) {
    const current = await api.json<PolicyView>('GET', '/v1/policy');
    const p = await api.json<PolicyView>('PUT', '/v1/policy', { json: { defaults: applyPairs(current.defaults, positionals) } });
    print(io, bools.has('json') ? JSON.stringify(p) : 'defaults updated');
    return 0;
  }
  if ((sub === undefined || sub === 'show' || sub === '--json') && positionals.length === 0) {
    const p = await api.json<PolicyView>('GET', '/v1/policy');
    if (bools.has('json') || sub === '--json') { print(io, JSON.stringify(p)); return 0; }
    print(io, `host: ${p.host.cpus} cores, ${p.host.memoryMiB} MiB`);
    print(io, 'limits of every tenant without overrides:');
    printLimits(io, p.effective);
    for (const [tenant, o] of Object.entries(p.tenants)) {
      print(io, `tenant ${tenant} overrides:`);
      printLimits(io, o);
    }
    return 0;
  }
  throw new UsageError('usage: agentbox policy [show] [--json] | agentbox policy set LIMIT=VALUE… (LIMIT= removes it)');
};

export const tenant: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { bools, positionals } = parseFlags(rest, flagsOf('tenant'));
  const [name, ...pairs] = positionals;
  if (sub !== 'limits' || !name) throw new UsageError('usage: agentbox tenant limits TENANT [LIMIT=VALUE…] [--reset] [--json]');
  const api = client(io);
  const path = `/v1/tenants/${encodeURIComponent(name)}/limits`;
  if (bools.has('reset')) {
    await api.request('DELETE', path);
    print(io, `${name}: overrides removed (the defaults apply)`);
    return 0;
  }
  let v = await api.json<TenantLimitsView>('GET', path);
  if (pairs.length) v = await api.json<TenantLimitsView>('PUT', path, { json: applyPairs(v.overrides, pairs) });
  if (bools.has('json')) { print(io, JSON.stringify(v)); return 0; }
  print(io, `tenant ${v.tenant}${Object.keys(v.overrides).length ? ` (overrides: ${Object.keys(v.overrides).join(', ')})` : ''}:`);
  printLimits(io, v.limits, v.usage);
  return 0;
};
