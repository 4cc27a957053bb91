/**
 * Single-node runtime benchmarks (issue #2), beside a baseline measured in the same run where
 * one exists (the table says "no baseline" otherwise):
 * - cold start to guest ready (engine.run) vs a bare `runsc run` of /bin/true on the same rootfs:
 *   the default create, which restores the template's golden snapshot (src/engine/golden-boot.ts) once it is as old as one in use,
 *   and a boot from scratch (golden snapshots off, as for a template's first create), with the
 *   idle memory of sandboxes made each way;
 * - exec round trip of `true` through the guest vs `runsc exec`, back to back and at an agent's
 *   pace (the process factory makes the next command's pipes between commands);
 * - the exec floor: `true` per request to a static C server in a sandbox (native-exec-floor.ts),
 *   the least a guest could spend on a command, vs `runsc exec`;
 * - a new sandbox's first command and its 2nd to 5th vs back-to-back execs on a sandbox that has
 *   run those (the golden builder's warm-up decides how much of the guest is compiled at first);
 * - 1 MiB file write + read through the guest's /files vs the host's own disk; a 1 MiB download
 *   of random bytes by a client that accepts gzip vs the same asked for as identity; a 64 MiB
 *   file's upload and download through /files vs the host's disk writing and reading it;
 * - 1 KiB file write as the sandbox's default user vs the same write as root;
 * - pause and resume of an idle sandbox, its first and its second (no baseline), and of one
 *   with 512 MiB touched (vs dd writing 512 MiB of pre-generated random data to disk: the disk,
 *   not the RNG, is timed);
 * - idle memory per sandbox (PSS of each distinct memory map in its cgroup, pss.ts: sentry, gofer,
 *   guest) vs a bare gVisor sandbox running `sleep`;
 * - where a cold start and a pause spend their time: p50 of each step (the engine's onPhases);
 * - density, measured: idle sandboxes started one by one until the host's memory pressure rises
 *   or DENSITY_MAX run at once; the host memory each took (MemAvailable's drop), and from that a
 *   computed (labelled) count for 16 GiB.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/engine/command.ts';
import { createEngine, type CreatedEngine, type PhaseReport } from '../src/engine/index.ts';
import { cannotRun, percentileRow, stat, timeMany, timeOnce, type BenchContext, type BenchSuite } from './harness.ts';
import { cgroupPss, sandboxCgroup, type PssBreakdown } from './pss.ts';
import { measureExecFloor } from './native-exec-floor.ts';
import { guestFilesRoute, timeFileTransfers } from './file-transfer.ts';
import { bareBundle } from '../test/support/bare-bundle.ts';
import { goldenKeys, untilNoGoldenBuild } from '../test/support/golden.ts';
import { networkIndex, testNetwork, testSubnet } from '../test/support/test-network.ts';

const MiB = 1024 * 1024;
/** Upper bound of the density measurement (the machine may be shared). */
const DENSITY_MAX = Number(process.env.AGENTBOX_BENCH_DENSITY_MAX ?? 50);
/** How old the golden snapshot is when cold starts restore it (see its use). */
const GOLDEN_AGE_MS = 12_000;
/** AGENTBOX_TEST_LANE moves it aside, so benchmarks of two checkouts can run at once; a /22 holds the density run. */
const NETWORK = { ...testNetwork(networkIndex('bench-runtime')), subnet: testSubnet(networkIndex('bench-runtime'), 22) };

/** MemAvailable from /proc/meminfo, bytes. */
async function memAvailable(): Promise<number> {
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'))?.[1]) * 1024;
}

/** The share of the last 10 s in which some task stalled on memory (PSI), percent. */
async function memoryPressure(): Promise<number> {
  return Number(/^some avg10=([\d.]+)/m.exec(await readFile('/proc/pressure/memory', 'utf8'))?.[1]);
}

/**
 * Cold starts with golden snapshots off (every create boots, as a template's first create does),
 * and the idle memory of the sandboxes so booted, on an engine of its own in `home`.
 */
async function measureBoots(ctx: BenchContext, home: string, onPhases: PhaseReport): Promise<{ times: number[]; pss: number[] }> {
  const { engine, drivers } = await createEngine({ home, network: NETWORK, onPhases, goldenSnapshots: 0 });
  const ids: string[] = [];
  try {
    await engine.destroy((await engine.run({ template: 'busybox' })).id);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) times.push(await timeOnce(async () => { ids.push((await engine.run({ template: 'busybox' })).id); }));
    await new Promise((r) => setTimeout(r, 2000));
    const pss = await Promise.all(ids.map(async (id) => (await cgroupPss(sandboxCgroup(id))).total));
    return { times, pss };
  } finally {
    for (const id of ids) await engine.destroy(id).catch(() => undefined);
    await engine.close();
    for (const d of drivers.values()) await d.releaseStateDir();
  }
}

async function run(ctx: BenchContext): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'agentbox-bench-'));
  let created: CreatedEngine | undefined;
  try {
    const phases = new Map<string, number[]>();
    const onPhases = (op: string, _id: string, p: Record<string, number>) => {
      for (const [step, ms] of Object.entries(p)) phases.set(`${op}: ${step}`, [...(phases.get(`${op}: ${step}`) ?? []), ms]);
    };
    const reportPhases = (op: string, what: string) => {
      for (const [key, samples] of phases) {
        if (key.startsWith(`${op}: `)) ctx.report(percentileRow(`${what}, step ${key}`, samples, 50, 'ms'));
      }
    };
    // Every create boots: golden snapshots off, as for a template's first create.
    const scratch = join(home, 'bare');
    const boots = await measureBoots(ctx, join(home, 'boot'), onPhases);
    reportPhases('create', 'boot from scratch');
    reportPhases('boot', 'boot from scratch');
    phases.clear();

    // The default: the first create of a template boots, and every later one restores its golden snapshot.
    const engineHome = join(home, 'engine');
    created = await createEngine({ home: engineHome, network: NETWORK, onPhases });
    const { engine, templates } = created;
    const template = await templates.ensure('busybox');
    const gvisor = created.runtimes.find((r) => r.name === 'gvisor');
    ctx.log(`gvisor platform: ${gvisor?.platform ?? 'unavailable'}`);
    const driver = created.drivers.get('gvisor');
    if (!driver) cannotRun('runtime', `the gvisor runtime class is not available here: ${created.unavailable.map((u) => `${u.name}: ${u.reason}`).join('; ')}`);
    await engine.destroy((await engine.run({ template: 'busybox' })).id);
    await untilNoGoldenBuild(engineHome);
    if (goldenKeys(engineHome).length === 0) throw new Error('no golden snapshot was made after the first create; see the engine log');
    // The golden snapshots a running engine restores are minutes to days old, and a copy's clocks
    // read the time of its restore: age this one past the guest's idle timers (V8's memory
    // reducer's, 8 s, src/guest/heap-settle.ts), so that a timer left pending at the checkpoint
    // fires in the copies timed here as it would in a user's.
    await new Promise((r) => setTimeout(r, GOLDEN_AGE_MS));
    phases.clear();
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
    const bareRun = { name: 'bare runsc run /bin/true', samples: bare };
    ctx.report(percentileRow('cold start to guest ready (create restoring the template\'s golden snapshot, the default)', cold, 50, 'ms', bareRun, '≤ 1.5× bare'));
    ctx.report(percentileRow('cold start to guest ready (boot from scratch: a template\'s first create, or golden snapshots off)', boots.times, 50, 'ms', bareRun));
    reportPhases('create', 'golden snapshot create');
    reportPhases('restore', 'golden snapshot create');

    // A new sandbox's first commands: a golden copy starts with the code its builder compiled.
    const firstCommand: number[] = [];
    const nextCommands: number[] = [];
    for (const id of ids) {
      firstCommand.push(await timeOnce(() => engine.exec(id, { cmd: ['true'] })));
      for (let i = 0; i < 4; i++) nextCommands.push(await timeOnce(() => engine.exec(id, { cmd: ['true'] })));
    }

    // Exec round trip.
    const sbx = ids[0]!;
    const exec = await timeMany(200, () => engine.exec(sbx, { cmd: ['true'] }));
    // An agent runs a command, then thinks: between commands the guest refills its launchers.
    const paced: number[] = [];
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      paced.push(await timeOnce(() => engine.exec(sbx, { cmd: ['true'] })));
    }
    const rexec = await timeMany(100, () => driver.exec(sbx, ['/bin/true']));
    const runscExec = { name: 'runsc exec', samples: rexec };
    ctx.report(percentileRow('exec round trip `true` (50 ms between commands)', paced, 50, 'ms', runscExec, '< 10 ms'));
    ctx.report(percentileRow('exec round trip `true` (back to back)', exec, 50, 'ms', runscExec));
    ctx.report(percentileRow('exec round trip `true` (back to back)', exec, 99, 'ms', runscExec));
    const warmExec = { name: 'exec `true` back to back on a sandbox that has run 5', samples: exec };
    ctx.report(percentileRow('first command on a new sandbox (a golden copy), exec `true`', firstCommand, 50, 'ms', warmExec));
    ctx.report(percentileRow('2nd to 5th command on a new sandbox (a golden copy), exec `true`', nextCommands, 50, 'ms', warmExec));

    // The floor: the smallest server one could put in the sandbox, on a sandbox of its own.
    const floorSandbox = (await engine.run({ template: 'busybox' })).id;
    try {
      const floor = await measureExecFloor(ctx, engine, floorSandbox, scratch, 200);
      if (floor) ctx.report(percentileRow('exec floor: `true` per request to a static C server in the sandbox (native-exec-floor.c; what a native guest could at best reach)', floor, 50, 'ms', runscExec));
    } finally {
      await engine.destroy(floorSandbox);
    }

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
    ctx.report(percentileRow('1 MiB file write + read', files, 50, 'ms', { name: 'host disk', samples: local }));

    // A large file each way on the sandbox's own disk, unencoded (random bytes), beside the host's
    // disk writing and reading the same bytes.
    const large = randomBytes(64 * MiB);
    const transfers = await timeFileTransfers(5, large, guestFilesRoute(info.guest, '/home/user/bench-large.bin'));
    const diskWrites = await timeMany(5, () => writeFile(join(home, 'bench-large.bin'), large));
    const diskReads = await timeMany(5, () => readFile(join(home, 'bench-large.bin')));
    ctx.report(percentileRow('64 MiB file upload through /files', transfers.up, 50, 'ms', { name: 'host disk write', samples: diskWrites }));
    ctx.report(percentileRow('64 MiB file download through /files', transfers.down, 50, 'ms', { name: 'host disk read', samples: diskReads }));

    // A command writing 64 MiB to its standard output, streamed to the caller as it comes, beside
    // the same command writing to /dev/null in the sandbox: what carrying a command's output costs.
    // One run first, untimed: both sides' code paths warm up over the first runs.
    const produce = 'dd if=/dev/zero bs=1048576 count=64 2>/dev/null';
    let streamed = 0;
    const streamOutput = () => engine.exec(sbx, { cmd: ['/bin/sh', '-c', produce], maxOutputBytes: 0, onStdout: (c) => { streamed += c.length; } });
    await streamOutput();
    streamed = 0;
    const output = await timeMany(5, streamOutput);
    if (streamed !== 5 * 64 * MiB) throw new Error(`streamed ${streamed} bytes of output, not ${5 * 64 * MiB}`);
    const inside = await timeMany(5, () => engine.exec(sbx, { cmd: ['/bin/sh', '-c', `${produce} > /dev/null`] }));
    ctx.report(percentileRow('64 MiB of command output streamed to the caller (dd, 1 MiB writes)', output, 50, 'ms', { name: 'the same dd to /dev/null in the sandbox', samples: inside }));

    // A download of bytes that do not compress, by a client that accepts gzip as fetch does on
    // every request, beside the same bytes asked for as they are: the guest sends them as they
    // are either way (files-get.ts), never paying to compress them.
    const noise = randomBytes(MiB);
    const noiseUrl = `${info.guest.url}/files?path=/tmp/noise.bin`;
    const put = await fetch(noiseUrl, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: noise });
    await put.arrayBuffer();
    const download = (acceptEncoding: string) => timeMany(30, async () => {
      const res = await fetch(noiseUrl, { headers: { ...headers, 'accept-encoding': acceptEncoding } });
      if ((await res.arrayBuffer()).byteLength !== MiB) throw new Error('short download');
    });
    const asIdentity = await download('identity');
    ctx.report(percentileRow('1 MiB download of random bytes, client accepting gzip (`gzip, deflate`, as fetch sends)', await download('gzip, deflate'), 50, 'ms', { name: 'the same asked for as identity', samples: asIdentity }));

    // A small write as the sandbox's default user, which needs the user's ids for the open
    // (the process factory switches them), beside the same write as root (no switch).
    const small = Buffer.alloc(1024, 0x5a);
    const writeAs = (user: string) => timeMany(60, async () => {
      const res = await fetch(`${info.guest.url}/files?path=/tmp/small-${user}.bin&username=${user}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: small });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`write as ${user}: HTTP ${res.status}`);
    });
    const asRoot = await writeAs('root');
    ctx.report(percentileRow('1 KiB file write as the default user (`user`)', await writeAs('user'), 50, 'ms', { name: '1 KiB file write as root', samples: asRoot }));

    // Idle memory per sandbox.
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await Promise.all(ids.map((id) => cgroupPss(sandboxCgroup(id))));
    const bareSleep = await bareBundle(scratch, driver, template.layers[0]!, 'bare-sleep', ['/bin/sleep', '1000']);
    await driver.run('bare-sleep', bareSleep, join(scratch, 'bare-sleep.log'));
    await new Promise((r) => setTimeout(r, 2000));
    const barePss = await cgroupPss(sandboxCgroup('bare-sleep'));
    await driver.delete('bare-sleep');
    const parts: [keyof PssBreakdown, string][] = [['total', 'sentry + gofer + guest'], ['sentry', 'sentry'], ['gofer', 'gofer'], ['guest', 'guest address spaces (systrap stubs)']];
    for (const [part, label] of parts) {
      const v = stat(idle.map((x) => x[part]), 50);
      ctx.report({ name: `idle memory per sandbox (PSS, ${label}), ${v.label}`, value: v.value / MiB, n: v.n, unit: 'MiB', baseline: { name: 'bare gVisor sandbox running sleep, single sample', value: barePss[part] / MiB }, ...(part === 'total' ? { target: '≤ 1.5× bare' } : {}) });
    }
    const bootedPss = stat(boots.pss, 50);
    ctx.report({ name: `idle memory per sandbox booted from scratch (PSS, sentry + gofer + guest), ${bootedPss.label}`, value: bootedPss.value / MiB, n: bootedPss.n, unit: 'MiB', baseline: { name: 'bare gVisor sandbox running sleep, single sample', value: barePss.total / MiB } });

    // Density, measured: start idle sandboxes until memory pressure rises (or the bound).
    const pressureAtStart = await memoryPressure();
    const availableAtStart = await memAvailable();
    const floor = totalmem() / 10;
    const dense: string[] = [];
    let stoppedBy = `the bound of ${DENSITY_MAX} (no memory pressure yet)`;
    try {
      while (dense.length < DENSITY_MAX) {
        dense.push((await engine.run({ template: 'busybox' })).id);
        if (await memoryPressure() > pressureAtStart + 1) { stoppedBy = 'memory pressure (PSI some avg10 rose by over 1 %)'; break; }
        if (await memAvailable() < floor) { stoppedBy = 'MemAvailable below 10 % of RAM'; break; }
      }
      await new Promise((r) => setTimeout(r, 2000));
      const perSandbox = (availableAtStart - await memAvailable()) / dense.length;
      const densePss = stat(await Promise.all(dense.map(async (id) => (await cgroupPss(sandboxCgroup(id))).total)), 50);
      ctx.report({ name: `idle sandboxes running at once, stopped by ${stoppedBy}`, value: dense.length, n: 1, unit: 'sandboxes' });
      ctx.report({ name: `host memory per idle sandbox (MemAvailable drop over ${dense.length} sandboxes)`, value: perSandbox / MiB, n: dense.length, unit: 'MiB', computed: `drop ÷ ${dense.length}; other processes on the host move MemAvailable too` });
      ctx.report({ name: `PSS per idle sandbox with ${dense.length} running, ${densePss.label}`, value: densePss.value / MiB, n: densePss.n, unit: 'MiB' });
      ctx.report({ name: 'idle sandboxes that would fit in 16 GiB', value: Math.floor((16 * 1024 * MiB) / perSandbox), n: dense.length, unit: 'sandboxes', computed: '16 GiB ÷ the host memory per idle sandbox above; not a run of that many', target: '≥ 800' });
    } finally {
      for (const id of dense) await engine.destroy(id).catch(() => undefined);
    }

    // Pause / resume, idle, twice per sandbox: a sandbox's first pause makes its checkpoint's
    // image, later ones reuse it (engine/pause/checkpoint-image.ts). Four other sandboxes' cycles
    // pass between two of one sandbox, as idle time would.
    phases.clear();
    for (const round of ['first', 'second']) {
      const pauseIdle: number[] = [];
      const resumeIdle: number[] = [];
      for (const id of ids.slice(1, 6)) {
        pauseIdle.push(await timeOnce(() => engine.pause(id)));
        resumeIdle.push(await timeOnce(() => engine.resume(id)));
      }
      ctx.report(percentileRow(`pause idle sandbox (its ${round} pause)`, pauseIdle, 50, 'ms'));
      ctx.report(percentileRow(`resume idle sandbox (its ${round} resume)`, resumeIdle, 50, 'ms', undefined, '< 300 ms'));
      reportPhases('pause', `pause idle sandbox (its ${round} pause)`);
      reportPhases('resume', `resume idle sandbox (its ${round} resume)`);
      phases.clear();
    }

    // Pause / resume with 512 MiB touched (random bytes: zero pages would be skipped).
    const big = await engine.run({ template: 'busybox', limits: { memoryMiB: 1536 } });
    const touched = await engine.exec(big.id, { cmd: ['/bin/sh', '-c', 'head -c 536870912 /dev/urandom > /dev/shm/touched && echo ok'] });
    if (touched.stdout.trim() !== 'ok') throw new Error(`touching 512 MiB failed: ${touched.stderr}`);
    // Its limits are a new kind: the golden snapshot its create started is built first, off the clock.
    await untilNoGoldenBuild(engineHome);
    phases.clear();
    const pauseBig = await timeOnce(() => engine.pause(big.id));
    const resumeBig = await timeOnce(() => engine.resume(big.id));
    // The baseline writes random data generated beforehand, so only the disk is timed.
    const random = join(home, 'random.bin');
    await runCommand('dd', ['if=/dev/urandom', `of=${random}`, 'bs=1M', 'count=512', 'status=none']);
    const dd = await timeOnce(() => runCommand('dd', [`if=${random}`, `of=${join(home, 'dd.bin')}`, 'bs=1M', 'conv=fsync', 'status=none']));
    ctx.report({ name: 'pause with 512 MiB touched, single sample', value: pauseBig, n: 1, unit: 'ms', baseline: { name: 'dd of 512 MiB pre-generated random data to disk with fsync, single sample', value: dd }, target: '< 512 ms (1 s/GiB)' });
    ctx.report({ name: 'resume with 512 MiB touched, single sample', value: resumeBig, n: 1, unit: 'ms' });
    reportPhases('pause', 'pause with 512 MiB touched');
    reportPhases('resume', 'resume with 512 MiB touched');

    for (const id of [...ids, big.id]) await engine.destroy(id);
  } finally {
    await created?.engine.close();
    await runCommand('nft', ['delete', 'table', 'inet', NETWORK.table]).catch(() => undefined);
    for (const d of created?.drivers.values() ?? []) await d.releaseStateDir();
    await rm(home, { recursive: true, force: true });
  }
}

const suite: BenchSuite = { name: 'runtime (single node, gVisor)', run };
export default suite;
