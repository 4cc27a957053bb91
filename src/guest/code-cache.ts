/**
 * How the guest bundle runs its code through V8's code cache (issue #13). Node 20 keeps no
 * code cache for user code (node:module's compile cache arrived in Node 22), so every sandbox
 * compiled the 0.7 MB guest and the functions its start calls, under gVisor's slow page faults:
 * about a third of the guest's start. The bundle (src/envd/bundle.ts) therefore holds
 *
 *   guest.cjs          the entry (entry.ts): compiles guest-code.js with guest-code.cache, runs it
 *   guest-code.js      the guest daemon (main.ts) as one function expression, see GuestCode
 *   guest-code.cache   V8's bytecode of every function the guest's start ran, written at build
 *                      time by running that start once on the build host
 *
 * V8 checks the cache against its own version, flags and the source, and compiles as before when
 * it does not match: a stale or missing cache costs time, never behaviour.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { GUEST_CODE, GUEST_CODE_CACHE, WRITE_CODE_CACHE_ENV, type GuestCode } from '../api/guest-bundle.ts';

function readCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Compiles and starts the guest in `dir`; resolves when it has started. */
export function runGuestCode(dir: string, require: NodeJS.Require): Promise<void> {
  const codePath = join(dir, GUEST_CODE);
  const cachePath = join(dir, GUEST_CODE_CACHE);
  const script = new Script(readFileSync(codePath, 'utf8'), {
    filename: codePath,
    // No importModuleDynamically: Node 20 drops it for a script compiled from cached data, so the
    // guest's code never import()s at run time (process/spawn-pty.ts requires node-pty instead).
    cachedData: readCache(cachePath),
  });
  const module: Parameters<GuestCode>[1] = { exports: {} };
  (script.runInThisContext() as GuestCode)(require, module, pathToFileURL(codePath).href);
  const started = module.exports.started ?? Promise.resolve();
  if (!process.env[WRITE_CODE_CACHE_ENV]) return started;
  // After the start, the script's functions that ran have bytecode: that is what the cache keeps.
  return started.then(() => {
    writeFileSync(cachePath, script.createCachedData());
    process.exit(0);
  });
}
