/**
 * Guest daemon micro-benchmarks, each beside a same-run baseline:
 * - exec round trip of `true` through the guest client vs a bare child_process.spawn('true');
 * - cold start of the bundled guest (tini → bundled ld-linux → node → /health) vs bare node startup;
 * - 1 MiB upload + download through /files vs writing + reading it locally.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentileRow, timeMany, type BenchSuite } from './harness.ts';
import { ensureGuestBundle, GUEST_MOUNT } from '../src/envd/bundle.ts';
import { createGuestClient } from '../src/envd/client.ts';
import { freePort, startGuest } from '../test/guest/fixture.ts';

const runTrue = () => new Promise<void>((resolve, reject) => {
  spawn('true').once('exit', () => resolve()).once('error', reject);
});


async function coldStart(argv: string[], configPath: string, port: number): Promise<number> {
  const client = createGuestClient({ url: `http://127.0.0.1:${port}` });
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { env: { AGENTBOX_GUEST_CONFIG: configPath }, stdio: 'ignore' });
  try {
    await client.waitUntilReady({ timeoutMs: 20_000 });
    return performance.now() - t0;
  } finally {
    client.close();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const suite: BenchSuite = {
  name: 'guest',
  async run(ctx) {
    const g = await startGuest();
    try {
      await timeMany(20, () => g.client.exec({ cmd: ['true'] }));
      await timeMany(20, runTrue);
      const viaGuest = await timeMany(200, () => g.client.exec({ cmd: ['true'] }));
      const bare = await timeMany(200, runTrue);
      const spawnTrue = { name: 'spawn(true)', samples: bare };
      ctx.report(percentileRow('exec `true` round trip', viaGuest, 50, 'ms', spawnTrue, '< 10 ms p50'));
      ctx.report(percentileRow('exec `true` round trip', viaGuest, 95, 'ms', spawnTrue));

      const data = Buffer.alloc(1 << 20, 7);
      const remote = join(g.dir, 'bench.bin');
      const headers = { 'x-access-token': g.accessToken };
      const viaFiles = await timeMany(20, async () => {
        const up = await fetch(`${g.url}/files?path=${encodeURIComponent(remote)}`, { method: 'POST', body: data, headers: { ...headers, 'content-type': 'application/octet-stream' } });
        await up.arrayBuffer();
        const down = await fetch(`${g.url}/files?path=${encodeURIComponent(remote)}`, { headers: { ...headers, 'accept-encoding': 'identity' } });
        if ((await down.arrayBuffer()).byteLength !== data.length) throw new RangeError('short download');
      });
      const local = join(g.dir, 'local.bin');
      const direct = await timeMany(20, async () => { writeFileSync(local, data); readFileSync(local); });
      ctx.report(percentileRow('1 MiB write + read via /files', viaFiles, 50, 'ms', { name: 'local fs', samples: direct }));
    } finally {
      await g.stop();
    }

    const work = mkdtempSync(join(tmpdir(), 'agentbox-bench-guest-'));
    try {
      const bundle = await ensureGuestBundle({ onProgress: ctx.log });
      // On the host the bundle is used in place: its /opt/agentbox paths point into the cache dir.
      const argv = bundle.argv.map((a) => a.replace(GUEST_MOUNT, bundle.dir));
      const starts: number[] = [];
      const nodeStarts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const port = await freePort();
        const config = join(work, `guest-${i}.json`);
        writeFileSync(config, JSON.stringify({ port, host: '127.0.0.1', initSecret: 'bench' }));
        starts.push(await coldStart(argv, config, port));
        nodeStarts.push(...await timeMany(1, () => new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r))));
      }
      ctx.report(percentileRow('bundled guest cold start to /health', starts, 50, 'ms', { name: 'bare `node -e 0`', samples: nodeStarts }, '< 400 ms (whole sandbox)'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default suite;
