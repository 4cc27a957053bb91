/**
 * OpenSandbox's sandbox env file (upstream execd's `EXECD_ENVS`): `KEY=VALUE` lines that every
 * command and session starts with. The Python SDK's `commands.set_env` appends to the file that
 * `$EXECD_ENVS` names inside the sandbox, so commands see that variable and the file is made
 * writable by the sandbox's default user.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseEnv } from 'node:util';
import { fsError } from '../errors.ts';
import type { OsUser } from '../users.ts';

export const ENV_FILE_VARIABLE = 'EXECD_ENVS';

/** Creates the (empty) file for `owner` unless it exists. */
export function prepareEnvFile(path: string, owner: OsUser): void {
  if (existsSync(path)) return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '', { mode: 0o644 });
    chownSync(path, owner.uid, owner.gid);
  } catch (err) {
    throw fsError(err, path);
  }
}

/** The file's variables (later lines win), plus EXECD_ENVS naming it; none when it is unreadable. */
export function envFileVariables(path: string): Record<string, string> {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { /* removed by the user: no variables */ }
  return { ...parseEnv(text) as Record<string, string>, [ENV_FILE_VARIABLE]: path };
}
