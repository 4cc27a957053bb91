/**
 * The exec floor (issue #13): exec `true` through the smallest guest one could write, to show how
 * far the real guest's exec is from what gVisor itself allows. native-exec-floor.c, compiled
 * static on the host, is copied into a sandbox and started there; the host then times HTTP
 * requests to it over one keep-alive connection, each of which starts `true` in the sandbox, on
 * the same network path as the guest's (the host to the sandbox's address, through netstack).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { runCommand } from '../src/engine/command.ts';
import type { Engine } from '../src/engine/index.ts';
import { timeMany, type BenchContext } from './harness.ts';
import { waitFor } from '../test/support/wait.ts';

const SOURCE = fileURLToPath(new URL('./native-exec-floor.c', import.meta.url));
const PORT = 7001;
const WARM_UP = 20;

/**
 * Durations of `count` requests to the floor server in sandbox `id` (which it leaves running);
 * undefined, with the reason logged, where gcc cannot build it.
 */
export async function measureExecFloor(ctx: BenchContext, engine: Engine, id: string, scratch: string, count: number): Promise<number[] | undefined> {
  const binary = join(scratch, 'native-exec-floor');
  try {
    await runCommand('gcc', ['-static', '-O2', '-o', binary, SOURCE]);
  } catch (err) {
    ctx.log(`exec floor not measured: gcc -static failed (${(err as Error).message.split('\n')[0]}); install gcc and libc6-dev`);
    return undefined;
  }
  const started = await engine.exec(id, {
    cmd: ['/bin/sh', '-c', `cat > /tmp/native-exec-floor && chmod +x /tmp/native-exec-floor && (/tmp/native-exec-floor ${PORT} </dev/null >/dev/null 2>&1 &)`],
    stdin: await readFile(binary),
  });
  if (started.exitCode !== 0) throw new Error(`starting the exec floor server failed: ${started.stderr}`);
  const agent = new Agent({ connections: 1, pipelining: 1 });
  const url = `http://${engine.get(id).address}:${PORT}/`;
  const once = async () => {
    const res = await request(url, { dispatcher: agent });
    const body = await res.body.text();
    if (res.statusCode !== 200 || body !== '0') throw new Error(`the exec floor server answered ${res.statusCode} '${body}'`);
  };
  try {
    // The server starts in the background: a refused request means not yet.
    await waitFor('the exec floor server to answer', async () => { await once(); return true; }, 5000);
    await timeMany(WARM_UP, once);
    return await timeMany(count, once);
  } finally {
    await agent.close();
  }
}
