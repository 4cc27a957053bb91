/** `cp SRC DST`: copies a file between the host and a sandbox (`ID:/path` on either side). */
import { readFile, writeFile } from 'node:fs/promises';
import { flagsOf } from '../command-table.ts';
import { parseFlags, UsageError, type Command } from '../io.ts';
import { client } from './sandboxes.ts';

const remote = (spec: string) => {
  const m = /^([a-z0-9]{1,64}):(\/.*)$/.exec(spec);
  return m ? { id: m[1]!, path: m[2]! } : undefined;
};

export const cp: Command = async (args, io) => {
  const { positionals } = parseFlags(args, flagsOf('cp'));
  if (positionals.length !== 2) throw new UsageError('usage: agentbox cp SRC DST   (ID:/absolute/path on one side)');
  const [src, dst] = positionals.map(remote);
  const api = client(io);
  if (src && !dst) {
    const res = await api.request('GET', `/v1/sandboxes/${src.id}/files`, { query: { path: src.path } });
    await writeFile(positionals[1]!, new Uint8Array(await res.arrayBuffer()));
  } else if (dst && !src) {
    await api.json('PUT', `/v1/sandboxes/${dst.id}/files`, { query: { path: dst.path }, body: await readFile(positionals[0]!) });
  } else if (src && dst) {
    const res = await api.request('GET', `/v1/sandboxes/${src.id}/files`, { query: { path: src.path } });
    await api.json('PUT', `/v1/sandboxes/${dst.id}/files`, { query: { path: dst.path }, body: new Uint8Array(await res.arrayBuffer()) });
  } else {
    throw new UsageError('one side of cp must be ID:/path');
  }
  return 0;
};
