/**
 * OS users and groups as the sandbox's image defines them (/etc/passwd, /etc/group). Read on
 * every lookup: files are small, and an image step (useradd in a running sandbox) must be seen
 * without a restart.
 */
import { readFileSync } from 'node:fs';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface UserDb {
  byName(name: string): OsUser | undefined;
  byUid(uid: number): OsUser | undefined;
  /** The gid of a group name; undefined when the image has no such group. */
  groupId(name: string): number | undefined;
  userName(uid: number): string;
  groupName(gid: number): string;
}

function readLines(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function createUserDb(etcDir = '/etc'): UserDb {
  const users = () => readLines(`${etcDir}/passwd`);
  const groups = () => readLines(`${etcDir}/group`);
  const toUser = (f: string[]): OsUser => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/', shell: f[6] || '/bin/sh' });
  return {
    byName(name) {
      const f = users().find((u) => u[0] === name);
      return f && toUser(f);
    },
    byUid(uid) {
      const f = users().find((u) => Number(u[2]) === uid);
      return f && toUser(f);
    },
    groupId(name) {
      const f = groups().find((g) => g[0] === name);
      return f && Number(f[2]);
    },
    userName(uid) {
      return users().find((u) => Number(u[2]) === uid)?.[0] ?? String(uid);
    },
    groupName(gid) {
      return groups().find((g) => Number(g[2]) === gid)?.[0] ?? String(gid);
    },
  };
}
