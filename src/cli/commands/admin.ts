/** `template build|import|ls`, `pool set|ls`, `volumes create|ls|rm`, `keys create|ls|revoke`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ApiKeyView, CreatedKeyView, PoolView, TemplateView, VolumeView } from '../../api/native.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type CliIo, type Command } from '../io.ts';
import { localSource } from '../local-source.ts';
import { client } from './sandboxes.ts';

export const template: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { flags, bools, positionals } = parseFlags(rest, flagsOf('template'));
  if (sub === 'build' && positionals.length === 1) {
    let recipe: unknown;
    try {
      recipe = parseYaml(await readFile(positionals[0]!, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read recipe ${positionals[0]}: ${(err as Error).message}`);
    }
    io.stderr.write(`building ${(recipe as { name?: string }).name ?? positionals[0]}… (the server prints build progress)\n`);
    const t = await client(io).json<TemplateView>('POST', '/v1/templates', { json: recipe, timeoutMs: 0 });
    print(io, bools.has('json') ? JSON.stringify(t) : `${t.name} ${t.state}`);
    return 0;
  }
  if (sub === 'import' && positionals.length === 2) {
    // A docker-save archive becomes template NAME (the server takes no host paths from tenants).
    const [name, file] = positionals as [string, string];
    // Streamed: image archives are often larger than a file Node can read whole (2 GiB).
    const body = await localSource(file, 'image archive');
    const t = await client(io).upload<TemplateView>('POST', `/v1/templates/${encodeURIComponent(name)}/oci`, body, { query: { ref: flags.ref }, answerUnbounded: true });
    print(io, bools.has('json') ? JSON.stringify(t) : `${t.name} ${t.state}`);
    return 0;
  }
  if (sub === 'ls' && positionals.length === 0) {
    const { templates } = await client(io).json<{ templates: TemplateView[] }>('GET', '/v1/templates');
    if (bools.has('json')) print(io, JSON.stringify(templates));
    else if (bools.has('quiet')) for (const t of templates) print(io, t.name);
    else for (const t of templates) print(io, `${t.name.padEnd(24)} ${t.state.padEnd(9)} ${t.visibility}`);
    return 0;
  }
  if (sub === 'export' && positionals.length === 1 && flags.oci) {
    await exportOci(positionals[0]!, flags.oci, flags.ref, bools.has('with-guest'), io);
    return 0;
  }
  throw new UsageError('usage: agentbox template build FILE | agentbox template import NAME DOCKER_ARCHIVE [--ref IMAGE] | agentbox template ls [--json | --quiet]'
    + ' | agentbox template export NAME --oci FILE [--ref IMAGE] [--with-guest]');
};

/**
 * Local, not through the server: builds the template in $AGENTBOX_HOME if needed and writes an
 * OCI archive for `ctr images import` (a Kubernetes node without a registry). `--with-guest`
 * adds the guest bundle under /agentbox: the image `agentbox.dev/inject-guest` copies it from.
 */
async function exportOci(name: string, out: string, ref: string | undefined, withGuest: boolean, io: CliIo) {
  const { openTemplateStore } = await import('../../engine/index.ts');
  const { exportTemplate } = await import('../../engine/images/oci-export.ts');
  const progress = (m: string) => io.stderr.write(`${m}\n`);
  const image = await exportTemplate(await openTemplateStore(), name, { out: resolve(out), ref, withGuest, onProgress: progress });
  print(io, `${image} ${out}`);
}

/** `--buffer-min` … → the capacity fields of PUT /v1/pools/{template} (api/pool-capacity.ts). */
const CAPACITY_FLAGS = { 'buffer-min': 'bufferMin', 'buffer-max': 'bufferMax', 'pool-min': 'poolMin', 'pool-max': 'poolMax' } as const;

/** One pool on one line; `ls` pads the template name into a column. */
const poolLine = (p: PoolView, width = 0) => {
  const cap = p.capacity ? ` buffer=${p.capacity.bufferMin}..${p.capacity.bufferMax} pool=${p.capacity.poolMin}..${p.capacity.poolMax}` : ` size=${p.size}`;
  return `${p.template.padEnd(width)}${cap} total=${p.total} allocated=${p.allocated} available=${p.available} starting=${p.starting}`;
};

export const pool: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { flags, bools, positionals } = parseFlags(rest, flagsOf('pool'));
  const api = client(io);
  const capacity = Object.fromEntries(Object.entries(CAPACITY_FLAGS).filter(([flag]) => flags[flag] !== undefined).map(([flag, field]) => [field, Number(flags[flag])]));
  if (sub === 'set' && positionals.length === 1 && (flags.size !== undefined || Object.keys(capacity).length > 0)) {
    // The server checks that size and the capacity fields are not mixed, and that all four are there.
    const body = { ...(flags.size !== undefined ? { size: Number(flags.size) } : {}), ...capacity };
    const p = await api.json<PoolView>('PUT', `/v1/pools/${positionals[0]}`, { json: body });
    print(io, bools.has('json') ? JSON.stringify(p) : poolLine(p));
    return 0;
  }
  if (sub === 'ls' && positionals.length === 0) {
    const { pools } = await api.json<{ pools: PoolView[] }>('GET', '/v1/pools');
    if (bools.has('json')) print(io, JSON.stringify(pools));
    else for (const p of pools) print(io, poolLine(p, 24));
    return 0;
  }
  throw new UsageError('usage: agentbox pool set TEMPLATE (--size N | --buffer-min N --buffer-max N --pool-min N --pool-max N) | agentbox pool ls [--json]');
};

/** One volume on one line; `ls` pads the name into a column. */
const volumeLine = (v: VolumeView, width = 0) => `${v.name.padEnd(width)} ${v.id}  ${v.sizeMiB} MiB  ${v.createdAt}`;

export const volumes: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { flags, bools, positionals } = parseFlags(rest, flagsOf('volumes'));
  const api = client(io);
  if (sub === 'create' && positionals.length === 1) {
    const v = await api.json<VolumeView>('POST', '/v1/volumes', { json: { name: positionals[0], ...(flags.size !== undefined ? { sizeMiB: Number(flags.size) } : {}) } });
    print(io, bools.has('json') ? JSON.stringify(v) : volumeLine(v));
    return 0;
  }
  if (sub === 'ls' && positionals.length === 0) {
    const { volumes: list } = await api.json<{ volumes: VolumeView[] }>('GET', '/v1/volumes');
    if (bools.has('json')) print(io, JSON.stringify(list));
    else for (const v of list) print(io, bools.has('quiet') ? v.name : volumeLine(v, 24));
    return 0;
  }
  if (sub === 'rm' && positionals.length === 1) {
    await api.request('DELETE', `/v1/volumes/${encodeURIComponent(positionals[0]!)}`);
    return 0;
  }
  throw new UsageError('usage: agentbox volumes create NAME [--size MIB] [--json] | agentbox volumes ls [--json|--quiet] | agentbox volumes rm NAME');
};

export const keys: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { flags, bools, positionals } = parseFlags(rest, flagsOf('keys'));
  const api = client(io);
  if (sub === 'create' && positionals.length === 0) {
    const body: Record<string, unknown> = { admin: bools.has('admin') };
    if (flags.tenant) body.tenant = flags.tenant;
    if (flags.name) body.name = flags.name;
    const k = await api.json<CreatedKeyView>('POST', '/v1/keys', { json: body });
    print(io, bools.has('json') ? JSON.stringify(k) : k.key);
    if (!bools.has('json')) io.stderr.write(`key ${k.id} for tenant ${k.tenant}: shown once, store it now (it is also the tenant's E2B_API_KEY, see docs/e2b.md)\n`);
    return 0;
  }
  if (sub === 'ls' && positionals.length === 0) {
    const { keys: list } = await api.json<{ keys: ApiKeyView[] }>('GET', '/v1/keys');
    if (bools.has('json')) print(io, JSON.stringify(list));
    // Every key is an E2B key too (`e2b_<40 hex>`, usable as E2B_API_KEY); the prefix shows it.
    else for (const k of list) print(io, `${k.id}  ${k.tenant.padEnd(16)} ${k.prefix}…  ${k.admin ? 'admin' : 'user '}  ${k.revokedAt ? `revoked ${k.revokedAt}` : k.name}`);
    return 0;
  }
  if (sub === 'revoke' && positionals.length === 1) {
    await api.request('DELETE', `/v1/keys/${positionals[0]}`);
    print(io, `${positionals[0]} revoked`);
    return 0;
  }
  throw new UsageError('usage: agentbox keys create [--tenant T] [--name N] [--admin] | keys ls | keys revoke KEY_ID');
};
