/**
 * Single-node runtime benchmarks (issue #2), each beside a baseline measured in the same run:
 * - cold start to guest ready (engine.run) vs a bare `runsc run` of /bin/true on the same rootfs;
 * - exec round trip of `true` through the guest vs `runsc exec`, back to back and at an agent's
 *   pace (the guest's pre-started launchers refill between commands);
 * - 1 MiB file write + read through the guest's /files vs the host's own disk;
 * - pause and resume of an idle sandbox and of one with 512 MiB touched (vs writing the same
 *   bytes to disk with dd);
 * - idle memory per sandbox (PSS of every host process in its cgroup) vs a bare gVisor sandbox
 *   running `sleep`, and how many idle sandboxes fit in 16 GiB.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/engine/command.ts';
import { createEngine, type CreatedEngine } from '../src/engine/index.ts';
import type { RuntimeDriver } from '../src/engine/runtime/driver.ts';
import { buildSpec } from '../src/engine/runtime/oci-spec.ts';
import { percentile, timeMany, timeOnce, type BenchContext, type BenchSuite } from './harness.ts';

const MiB = 1024 * 1024;

/** Proportional set size of every process in a sandbox's memory cgroup, bytes. */
async function cgroupPss(id: string): Promise<number> {
  const procs = (await readFile(`/sys/fs/cgroup/memory/agentbox/${id}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean);
  let total = 0;
  for (const pid of procs) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** A bundle that runs `args` straight on the template's rootfs: no guest, no network. */
export async function bareBundle(dir: string, driver: RuntimeDriver, rootfs: string, id: string, args: string[], opts: { writable?: boolean } = {}): Promise<string> {
  const bundle = join(dir, id);
  await mkdir(bundle, { recursive: true });
  const spec = buildSpec({
    id, hostname: id, runtime: driver.name, rootfs, args, env: { PATH: '/bin:/usr/bin' },
    limits: { cpu: 1, memoryMiB: 256, pids: 512 }, binds: [], cgroupsPath: `/agentbox/${id}`,
  });
  (spec.root as { readonly: boolean }).readonly = !opts.writable;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

async function run(ctx: BenchContext): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'agentbox-bench-'));
  let created: CreatedEngine | undefined;
  try {
    created = await createEngine({ home, network: { subnet: '10.251.0.0/22', ifacePrefix: 'abb', table: 'agentbox_bench', dnsPort: 10099, nat: false } });
    const { engine, templates } = created;
    const template = await templates.ensure('busybox');
    const gvisor = created.runtimes.find((r) => r.name === 'gvisor');
    ctx.log(`gvisor platform: ${gvisor?.platform ?? 'unavailable'}`);
    const driver = created.drivers.get('gvisor');
    if (!driver) throw new Error('the gvisor runtime class is not available here');
    const scratch = join(home, 'bare');

    // Cold start.
    const cold: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      let id = '';
      cold.push(await timeOnce(async () => { id = (await engine.run({ template: 'busybox' })).id; }));
      ids.push(id);
    }
    const bare = await timeMany(8, async (i) => {
      const bundle = await bareBundle(scratch, driver, template.layers[0]!, `bare-true-${i}`, ['/bin/true']);
      await driver.runToCompletion(`bare-true-${i}`, bundle, () => undefined);
      await driver.delete(`bare-true-${i}`);
    });
    ctx.report({ name: 'cold start to guest ready, p50', value: percentile(cold, 50), unit: 'ms', baseline: { name: 'bare runsc run /bin/true', value: percentile(bare, 50) }, target: '< 400 ms' });

    // Exec round trip.
    const sbx = ids[0]!;
    await engine.exec(sbx, { cmd: ['true'] });
    const exec = await timeMany(200, () => engine.exec(sbx, { cmd: ['true'] }));
    // An agent runs a command, then thinks: between commands the guest refills its launchers.
    const paced: number[] = [];
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      paced.push(await timeOnce(() => engine.exec(sbx, { cmd: ['true'] })));
    }
    const rexec = await timeMany(50, () => driver.exec(sbx, ['/bin/true']));
    ctx.report({ name: 'exec round trip `true`, p50 (50 ms between commands)', value: percentile(paced, 50), unit: 'ms', baseline: { name: 'runsc exec', value: percentile(rexec, 50) }, target: '< 10 ms' });
    ctx.report({ name: 'exec round trip `true`, p50 (back to back)', value: percentile(exec, 50), unit: 'ms', baseline: { name: 'runsc exec', value: percentile(rexec, 50) } });
    ctx.report({ name: 'exec round trip `true`, p99 (back to back)', value: percentile(exec, 99), unit: 'ms', baseline: { name: 'runsc exec p99', value: percentile(rexec, 99) } });

    // 1 MiB file write + read through the guest.
    const info = engine.get(sbx);
    const data = Buffer.alloc(MiB, 0x5a);
    const url = `${info.guest.url}/files?path=/tmp/bench.bin`;
    const headers = { 'x-access-token': info.guest.accessToken };
    const files = await timeMany(30, async () => {
      const up = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: data });
      await up.arrayBuffer();
      const down = await fetch(url, { headers });
      await down.arrayBuffer();
    });
    const local = await timeMany(30, async () => {
      await writeFile(join(home, 'bench.bin'), data);
      await readFile(join(home, 'bench.bin'));
    });
    ctx.report({ name: '1 MiB file write + read, p50', value: percentile(files, 50), unit: 'ms', baseline: { name: 'host disk', value: percentile(local, 50) } });

    // Idle memory per sandbox.
    await new Promise((r) => setTimeout(r, 2000));
    const pss = await Promise.all(ids.map(cgroupPss));
    const perSandbox = percentile(pss, 50);
    const bareSleep = await bareBundle(scratch, driver, template.layers[0]!, 'bare-sleep', ['/bin/sleep', '1000']);
    await driver.run('bare-sleep', bareSleep, join(scratch, 'bare-sleep.log'));
    await new Promise((r) => setTimeout(r, 2000));
    const barePss = await cgroupPss('bare-sleep');
    await driver.delete('bare-sleep');
    ctx.report({ name: 'idle memory per sandbox (PSS, sentry + gofer + guest)', value: perSandbox / MiB, unit: 'MiB', baseline: { name: 'bare gVisor sandbox running sleep', value: barePss / MiB } });
    ctx.report({ name: 'idle sandboxes that fit in 16 GiB', value: Math.floor((16 * 1024 * MiB) / perSandbox), unit: 'sandboxes' });

    // Pause / resume, idle.
    const pauseIdle: number[] = [];
    const resumeIdle: number[] = [];
    for (const id of ids.slice(1, 6)) {
      pauseIdle.push(await timeOnce(() => engine.pause(id)));
      resumeIdle.push(await timeOnce(() => engine.resume(id)));
    }
    ctx.report({ name: 'pause idle sandbox, p50', value: percentile(pauseIdle, 50), unit: 'ms' });
    ctx.report({ name: 'resume idle sandbox, p50', value: percentile(resumeIdle, 50), unit: 'ms', target: '< 300 ms' });

    // Pause / resume with 512 MiB touched (random bytes: zero pages would be skipped).
    const big = await engine.run({ template: 'busybox', limits: { memoryMiB: 1536 } });
    const touched = await engine.exec(big.id, { cmd: ['/bin/sh', '-c', 'head -c 536870912 /dev/urandom > /dev/shm/touched && echo ok'] });
    if (touched.stdout.trim() !== 'ok') throw new Error(`touching 512 MiB failed: ${touched.stderr}`);
    const pauseBig = await timeOnce(() => engine.pause(big.id));
    const resumeBig = await timeOnce(() => engine.resume(big.id));
    const dd = await timeOnce(() => runCommand('dd', ['if=/dev/urandom', `of=${join(home, 'dd.bin')}`, 'bs=1M', 'count=512', 'conv=fsync', 'status=none']));
    ctx.report({ name: 'pause with 512 MiB touched', value: pauseBig, unit: 'ms', baseline: { name: 'dd 512 MiB to disk', value: dd }, target: '< 512 ms (1 s/GiB)' });
    ctx.report({ name: 'resume with 512 MiB touched', value: resumeBig, unit: 'ms' });

    for (const id of [...ids, big.id]) await engine.destroy(id);
  } finally {
    await created?.engine.close();
    await runCommand('nft', ['delete', 'table', 'inet', 'agentbox_bench']).catch(() => undefined);
    for (const d of created?.drivers.values() ?? []) await d.releaseStateDir();
    await rm(home, { recursive: true, force: true });
  }
}

const suite: BenchSuite = { name: 'runtime (single node, gVisor)', run };
export default suite;
