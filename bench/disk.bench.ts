/**
 * What the per-sandbox disk image (src/engine/images/disk.ts) costs, each beside a baseline
 * measured in the same run:
 * - making and mounting a 10 GiB sparse image, beside the cold start it is part of;
 * - a bare `runsc run /bin/true` over an overlay whose upper dir is in a new image (made for
 *   it), beside the same with the upper dir on the host filesystem;
 * - writing 256 MiB with fsync inside a gVisor sandbox (dd conv=fsync), upper dir in an image
 *   vs on the host filesystem; on the host into a mounted image vs the host filesystem; and
 *   through the engine's guest;
 * - pause of an idle sandbox (its checkpoint goes to an image made for it) beside making that image.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/engine/command.ts';
import { attachDisk, removeDisk } from '../src/engine/images/disk.ts';
import { mountOverlay, unmount } from '../src/engine/images/overlay.ts';
import { createEngine, type CreatedEngine } from '../src/engine/index.ts';
import { percentileRow, timeMany, timeOnce, type BenchContext, type BenchSuite } from './harness.ts';
import { bareBundle } from '../test/support/bare-bundle.ts';

const NETWORK = { subnet: '10.252.0.0/24', ifacePrefix: 'abd', table: 'agentbox_bench_disk', dnsPort: 10098, nat: false };
const WRITE = 'dd if=/dev/zero of=/bench.bin bs=1M count=256 conv=fsync';

async function run(ctx: BenchContext): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'agentbox-bench-disk-'));
  let created: CreatedEngine | undefined;
  try {
    created = await createEngine({ home, network: NETWORK });
    const { engine, templates } = created;
    const template = await templates.ensure('busybox');
    const driver = created.drivers.get('gvisor');
    if (!driver) throw new Error('the gvisor runtime class is not available here');
    const scratch = join(home, 'bare');
    await mkdir(scratch, { recursive: true });

    /** Runs `args` in a bare gVisor sandbox over the template's layers and an upper dir in `upperRoot`; returns its output. */
    let n = 0;
    const bareRun = async (upperRoot: string, args: string[], withImage: boolean): Promise<string> => {
      const id = `bare-disk-${n++}`;
      const rootfs = join(scratch, `${id}-rootfs`);
      if (withImage) await attachDisk({ file: join(scratch, `${id}.img`), mount: upperRoot, sizeMiB: 10_240 }, { create: true });
      await mountOverlay({ lower: template.layers, upper: join(upperRoot, 'upper'), work: join(upperRoot, 'work'), target: rootfs });
      let out = '';
      try {
        await driver.runToCompletion(id, await bareBundle(scratch, driver, rootfs, id, args, { writable: true }), (c) => { out += c; });
      } finally {
        await driver.delete(id);
        await unmount(rootfs);
        if (withImage) await removeDisk({ file: join(scratch, `${id}.img`), mount: upperRoot });
        await rm(upperRoot, { recursive: true, force: true });
      }
      return out;
    };

    // The image on its own (made and mounted on create, removed on destroy), and the cold start that includes it.
    const attach: number[] = [];
    const remove: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = { file: join(scratch, `img-${i}.img`), mount: join(scratch, `img-${i}`), sizeMiB: 10_240 };
      attach.push(await timeOnce(() => attachDisk(d, { create: true })));
      remove.push(await timeOnce(() => removeDisk(d)));
    }
    const cold: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      cold.push(await timeOnce(async () => { ids.push((await engine.run({ template: 'busybox' })).id); }));
    }
    ctx.report(percentileRow('make + mount a 10 GiB sparse disk image (create)', attach, 50, 'ms', { name: 'cold start to guest ready (engine.run, includes it)', samples: cold }));
    ctx.report(percentileRow('unmount + delete it (destroy)', remove, 50, 'ms'));

    const bareImage = await timeMany(8, (i) => bareRun(join(scratch, `up-img-${i}`), ['/bin/true'], true));
    const bareHost = await timeMany(8, (i) => bareRun(join(scratch, `up-host-${i}`), ['/bin/true'], false));
    ctx.report(percentileRow('runsc run /bin/true over an overlay, upper in a new disk image', bareImage, 50, 'ms', { name: 'upper on the host filesystem', samples: bareHost }));

    // 256 MiB written with fsync inside the sandbox.
    const elapsedMs = (out: string) => {
      const m = /elapsed=([\d.]+)/.exec(out);
      if (!m) throw new Error(`no timing in: ${out}`);
      return Number(m[1]) * 1000;
    };
    const ddArgs = ['/bin/sh', '-c', `time -f elapsed=%e ${WRITE} 2>&1`];
    const writesImage: number[] = [];
    const writesHost: number[] = [];
    const hostImage: number[] = [];
    const hostDir: number[] = [];
    const mounted = { file: join(scratch, 'host-dd.img'), mount: join(scratch, 'host-dd'), sizeMiB: 10_240 };
    await attachDisk(mounted, { create: true });
    const hostDd = (dir: string) => runCommand('dd', ['if=/dev/zero', `of=${join(dir, 'dd.bin')}`, 'bs=1M', 'count=256', 'conv=fsync', 'status=none']);
    // Interleaved, so that the load of the shared machine hits both sides alike.
    for (let i = 0; i < 7; i++) {
      writesImage.push(elapsedMs(await bareRun(join(scratch, `w-img-${i}`), ddArgs, true)));
      writesHost.push(elapsedMs(await bareRun(join(scratch, `w-host-${i}`), ddArgs, false)));
      hostImage.push(await timeOnce(() => hostDd(mounted.mount)));
      hostDir.push(await timeOnce(() => hostDd(scratch)));
    }
    await removeDisk(mounted);
    ctx.report(percentileRow('write 256 MiB + fsync in a bare gVisor sandbox, upper in a disk image', writesImage, 50, 'ms', { name: 'upper on the host filesystem', samples: writesHost }));
    ctx.report(percentileRow('dd 256 MiB + fsync on the host into a mounted disk image', hostImage, 50, 'ms', { name: 'into the host filesystem', samples: hostDir }));
    const viaEngine = await timeMany(5, async (i) => {
      const r = await engine.exec(ids[0]!, { cmd: ['/bin/sh', '-c', `${WRITE.replace('/bench.bin', `/home/user/bench-${i}.bin`)} 2>/dev/null && rm /home/user/bench-${i}.bin`] });
      if (r.exitCode !== 0) throw new Error(`dd failed: ${r.stderr}`);
    });
    ctx.report(percentileRow('write 256 MiB + fsync through the guest (engine sandbox, disk image)', viaEngine, 50, 'ms', { name: 'dd on the host filesystem', samples: hostDir }));

    // Pause makes the checkpoint's image (512 MiB memory limit → 768 MiB image).
    const ckptImage = await timeMany(5, async (i) => {
      const d = { file: join(scratch, `ckpt-${i}.img`), mount: join(scratch, `ckpt-${i}`), sizeMiB: 768 };
      await attachDisk(d, { create: true });
      await removeDisk(d);
    });
    const pause: number[] = [];
    for (const id of ids.slice(1, 6)) {
      pause.push(await timeOnce(() => engine.pause(id)));
      await engine.resume(id);
    }
    ctx.report(percentileRow('pause idle sandbox (checkpoint into a new image)', pause, 50, 'ms', { name: 'make + mount + remove the 768 MiB checkpoint image', samples: ckptImage }));

    for (const id of ids) await engine.destroy(id);
  } finally {
    await created?.engine.close();
    await runCommand('nft', ['delete', 'table', 'inet', NETWORK.table]).catch(() => undefined);
    for (const d of created?.drivers.values() ?? []) await d.releaseStateDir();
    await rm(home, { recursive: true, force: true });
  }
}

const suite: BenchSuite = { name: 'disk quota (gVisor, per-sandbox ext4 image)', run };
export default suite;
