// `agentbox operator` start-up: from spawn to "operator started" (informer caches synced, queues
// running) and its resident memory at that moment, for the bundled build (npm run build →
// dist/agentbox.mjs, what the image runs) beside the TypeScript sources run through tsx.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cannotRun, percentileRow, type BenchSuite } from './harness.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG } from '../test/k8s/harness.ts';

const RUNS = 5;
const root = new URL('..', import.meta.url).pathname;

/** One start: ms until the operator reports its caches synced, and its RSS (MiB) then. */
function startOnce(entry: string[], ns: string): Promise<{ ms: number; rssMiB: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...entry, 'operator', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--extensions',
    '--enable-webhook=false', '--metrics-bind-address=0', '--health-probe-bind-address=0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (!err.includes('"operator started"')) return;
      const ms = performance.now() - t0;
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      child.once('exit', () => resolve({ ms, rssMiB: rssKiB / 1024 }));
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => { if (!err.includes('"operator started"')) reject(new Error(`operator exited ${code}: ${err.slice(-300)}`)); });
  });
}

const suite: BenchSuite = {
  name: 'k8s operator start-up (bundled vs tsx)',
  async run(ctx) {
    const skip = ensureEnv();
    if (skip) cannotRun('k8s-startup', skip);
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
    const client = await adminClient();
    await installCrds(client);
    const ns = await createNamespace(client, 'bench-start');
    try {
      const bundled: { ms: number; rssMiB: number }[] = [];
      const tsx: { ms: number; rssMiB: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        bundled.push(await startOnce([join(root, 'dist/agentbox.mjs')], ns));
        tsx.push(await startOnce([join(root, 'bin/agentbox.mjs')], ns));
      }
      const tsxStart = { name: 'tsx sources', samples: tsx.map((s) => s.ms) };
      const tsxRss = { name: 'tsx sources', samples: tsx.map((s) => s.rssMiB) };
      ctx.report(percentileRow('operator start → caches synced, bundled', bundled.map((s) => s.ms), 50, 'ms', tsxStart, '< 1000 ms (upstream controller)'));
      ctx.report(percentileRow('operator RSS at start, bundled', bundled.map((s) => s.rssMiB), 50, 'MiB', tsxRss, '45–60 MiB (upstream controller)'));
    } finally {
      await deleteNamespace(client, ns);
      client.close();
    }
  },
};

export default suite;
