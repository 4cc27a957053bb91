/**
 * M1 / L12: runc as a real boundary, on real runc (and the shared hardening on real gVisor).
 * Sandbox root is an unprivileged host uid of a range of its own; new namespaces, the mount
 * API, keyrings, BPF, perf, userfaultfd, io_uring, kexec and modules are refused by seccomp;
 * side-channel paths are masked; capabilities are the documented minimal set with no new
 * privileges; the CPU limit holds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sh, startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { buildSpec, MASKED_PATHS } from '../../src/engine/runtime/oci-spec.ts';
import { detectAppArmor, runcProfile } from '../../src/engine/runtime/apparmor.ts';
import type { SandboxInfo } from '../../src/engine/types.ts';

let t: TestEngine;
let probe: Buffer;
before(async () => {
  t = await startTestEngine('sec-runc');
  await t.templates.ensure('busybox');
  const dir = mkdtempSync(join(tmpdir(), 'runc-syscalls-'));
  try {
    const src = fileURLToPath(new URL('./runc-syscalls.c', import.meta.url));
    execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'probe'), src]);
    probe = readFileSync(join(dir, 'probe'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
after(() => t.cleanup());

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const field = (text: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';

async function upload(s: SandboxInfo, path: string, body: Buffer | string, user = 'root'): Promise<void> {
  const res = await fetch(`${s.guest.url}/files?path=${encodeURIComponent(path)}&username=${user}`, {
    method: 'POST', headers: { 'x-access-token': s.guest.accessToken, 'content-type': 'application/octet-stream' }, body,
  });
  assert.equal(res.status, 200, await res.text());
}

/** The sandbox's init as the host sees it. */
async function hostInit(id: string): Promise<number> {
  const { pid } = await t.engine.inspect(id);
  assert.ok(pid, 'the sandbox has a host pid');
  return pid;
}

describe('runc: user namespace', () => {
  it('root inside is an unprivileged host uid of a range no other sandbox has', { timeout: 120_000 }, async () => {
    const a = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    const b = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    assert.equal(await sh(t.engine, a.id, 'id -u', 'root'), '0');
    const ranges: [number, number][] = [];
    for (const s of [a, b]) {
      const pid = await hostInit(s.id);
      // Real, effective, saved and filesystem uid and gid of the sandbox's init, from the host.
      const uids = field(status(pid), 'Uid').split(/\s+/).map(Number);
      const gids = field(status(pid), 'Gid').split(/\s+/).map(Number);
      for (const id of [...uids, ...gids]) assert.ok(id >= 65536, `host id ${id} of the sandbox's root is a system or login id`);
      const [inside, outside, count] = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number) as [number, number, number];
      assert.deepEqual([inside, outside], [0, uids[0]]);
      ranges.push([outside, outside + count]);
    }
    const [[a0, a1], [b0, b1]] = ranges as [[number, number], [number, number]];
    assert.ok(a1 <= b0 || b1 <= a0, `ranges overlap: ${ranges.join(' / ')}`);

    // The image appears owned by root inside; what root writes is stored under its host uid.
    assert.match(await sh(t.engine, a.id, 'ls -lnd /etc /bin/busybox', 'root'), /^\S+\s+\d+\s+0\s+0\s/m);
    await sh(t.engine, a.id, 'echo x > /root/by-root', 'root');
    await sh(t.engine, a.id, 'echo y > /tmp/by-user2', 'user');
    await upload(a, '/home/user/uploaded', 'data', 'user');
    assert.equal(await sh(t.engine, a.id, 'stat -c %u /root/by-root /tmp/by-user2 /home/user/uploaded', 'root'), '0\n1000\n1000');
    const upper = join(t.home, 'sandboxes', a.id, 'disk', 'upper');
    assert.equal(statSync(join(upper, 'root/by-root')).uid, a0);
    assert.equal(statSync(join(upper, 'tmp/by-user2')).uid, a0 + 1000);
    assert.equal(statSync(join(upper, 'home/user/uploaded')).uid, a0 + 1000);

    // Root can still serve on a low port (the engine lets its network namespace bind them).
    const listen = 'nc -l -p 80 </dev/null >/dev/null 2>/tmp/nc.err & for i in $(seq 100); do netstat -ltn | grep -q ":80 " && exit 0; kill -0 $! 2>/dev/null || break; sleep 0.1; done; cat /tmp/nc.err; exit 1';
    await sh(t.engine, a.id, listen, 'root');

    // Pause freezes the cgroup and keeps the processes; resume thaws them.
    await sh(t.engine, a.id, 'sleep 600 >/dev/null 2>&1 &', 'root');
    await t.engine.pause(a.id);
    assert.equal(readFileSync(`/sys/fs/cgroup/freezer/agentbox/${a.id}/freezer.state`, 'utf8').trim(), 'FROZEN');
    await t.engine.resume(a.id);
    assert.match(await sh(t.engine, a.id, 'ps -o comm', 'root'), /sleep/);
    await t.engine.destroy(a.id);
    await t.engine.destroy(b.id);
  });
});

describe('runc: sandboxes from before user namespaces', () => {
  it('a writable layer owned by host ids is shifted into the sandbox\'s range when it boots again', { timeout: 120_000 }, async () => {
    const s = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    await sh(t.engine, s.id, 'echo old > /root/kept && cp /bin/busybox /root/suid && chmod 4755 /root/suid', 'root');
    await sh(t.engine, s.id, 'echo mine > /home/user/mine', 'user');
    await t.engine.pause(s.id, { memory: false });
    // What an earlier version left: an upper dir owned by host root and the user, nothing mounted.
    const upper = join(t.home, 'sandboxes', s.id, 'disk', 'upper');
    const rootfs = JSON.parse(readFileSync(join(t.home, 'sandboxes', s.id, 'bundle', 'config.json'), 'utf8')).root.path as string;
    execFileSync('umount', [rootfs]);
    execFileSync('chown', ['-R', '0:0', upper]);
    execFileSync('chown', ['-R', '1000:1000', join(upper, 'home/user')]);
    execFileSync('chmod', ['4755', join(upper, 'root/suid')]);
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'cat /root/kept && echo more >> /root/kept && stat -c "%u %a" /root/kept /root/suid /home/user/mine', 'root'), 'old\n0 644\n0 4755\n1000 644');
    await t.engine.destroy(s.id);
  });
});

describe('runc: seccomp', () => {
  it('refuses new namespaces and the dangerous syscalls, and allows a plain clone', { timeout: 120_000 }, async () => {
    const s = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    await upload(s, '/tmp/probe', probe);
    await sh(t.engine, s.id, 'chmod 755 /tmp/probe', 'root');
    const out = Object.fromEntries((await sh(t.engine, s.id, '/tmp/probe', 'root')).split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
    const EPERM = 1;
    const ENOSYS = 38;
    assert.equal(out.clone, 0, 'a clone without namespace flags (fork) works');
    assert.equal(out.clone3_newuser, ENOSYS, 'clone3 answers ENOSYS so that libc falls back to clone');
    for (const name of ['clone_newuser', 'clone_newns', 'clone_newnet', 'unshare_newuser', 'unshare_newns', 'setns', 'mount', 'fsopen', 'open_tree',
      'keyctl', 'add_key', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'kexec_load', 'init_module', 'ptrace', 'vsock']) {
      assert.equal(out[name], EPERM, `${name} gave errno ${out[name]}, not EPERM`);
    }
    // The same through the tools a user would reach for.
    const res = await t.engine.exec(s.id, { cmd: ['/bin/sh', '-c', 'unshare -U true; unshare -m true; unshare -n true'], user: 'root' });
    assert.equal(res.stderr.match(/Operation not permitted/g)?.length, 3, res.stderr);
    await t.engine.destroy(s.id);
  });
});

/** Capability numbers from linux/capability.h of the documented set (oci-spec.ts SANDBOX_CAPABILITIES). */
const CAPS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6,
  CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_SYS_CHROOT: 18,
};
const DOCUMENTED_CAPS = Object.values(CAPS).reduce((m, bit) => m | (1n << BigInt(bit)), 0n);

for (const runtime of ['runc', 'gvisor'] as const) {
  describe(`${runtime}: privileges, masked paths, CPU limit`, () => {
    // no_new_privs as docs/security.md states it: runc sets it for every process; gVisor lets setuid
    // programs (sudo) reach the sandbox's root, whose capabilities are still exactly this set.
    const noNewPrivs = { runc: '1', gvisor: '0' }[runtime];
    it(`root has exactly the documented capabilities, the user none, both with NoNewPrivs ${noNewPrivs}`, { timeout: 120_000 }, async () => {
      const s = await t.engine.run({ template: 'busybox', runtime });
      const root = await sh(t.engine, s.id, 'cat /proc/self/status', 'root');
      const user = await sh(t.engine, s.id, 'cat /proc/self/status', 'user');
      assert.equal(BigInt(`0x${field(root, 'CapEff')}`), DOCUMENTED_CAPS, `CapEff ${field(root, 'CapEff')}`);
      assert.equal(BigInt(`0x${field(root, 'CapBnd')}`), DOCUMENTED_CAPS, `CapBnd ${field(root, 'CapBnd')}`);
      assert.equal(BigInt(`0x${field(user, 'CapEff')}`), 0n);
      assert.equal(field(root, 'NoNewPrivs'), noNewPrivs);
      assert.equal(field(user, 'NoNewPrivs'), noNewPrivs);
      if (runtime === 'runc') assert.equal(field(root, 'Seccomp'), '2', 'a seccomp filter is installed');
      await t.engine.destroy(s.id);
    });

    it('side-channel and kernel paths read empty', { timeout: 120_000 }, async () => {
      const s = await t.engine.run({ template: 'busybox', runtime });
      // /proc/interrupts has content on every host; the powercap counters where the host has them.
      assert.ok(readFileSync('/proc/interrupts', 'utf8').length > 0);
      assert.equal(await sh(t.engine, s.id, 'cat /proc/interrupts | wc -c', 'root'), '0');
      for (const dir of ['/sys/devices/virtual/powercap', '/sys/kernel/security', '/sys/firmware']) {
        if (!existsSync(dir) || readdirSync(dir).length === 0) continue;
        assert.equal(await sh(t.engine, s.id, `ls -A ${dir} 2>/dev/null | wc -l`, 'root'), '0', dir);
      }
      await t.engine.destroy(s.id);
    });

    it('a CPU limit holds: a busy loop stays within its quota, throttled by the kernel, while a same-run unlimited one is not', { timeout: 120_000 }, async () => {
      const quota = 0.1;
      const limited = await t.engine.run({ template: 'busybox', runtime, limits: { cpu: quota } });
      const baseline = await t.engine.run({ template: 'busybox', runtime, limits: { cpu: 2 } });
      const cg = (id: string, f: string) => readFileSync(`/sys/fs/cgroup/cpu/agentbox/${id}/${f}`, 'utf8');
      const throttled = (id: string) => Number(/^nr_throttled (\d+)/m.exec(cg(id, 'cpu.stat'))?.[1]);
      assert.equal(Number(cg(limited.id, 'cpu.cfs_quota_us')) / Number(cg(limited.id, 'cpu.cfs_period_us')), quota);
      /** CPU time the sandbox used per second of wall time, and how often the kernel throttled it, while a busy loop ran 3 s. */
      const run = async (s: SandboxInfo) => {
        const [cpu0, thr0] = [(await t.engine.inspect(s.id)).cpuNanos, throttled(s.id)];
        const start = process.hrtime.bigint();
        await t.engine.exec(s.id, { cmd: ['/bin/sh', '-c', 'timeout 3 sh -c "while :; do :; done"; true'] });
        const wall = Number(process.hrtime.bigint() - start);
        return { share: ((await t.engine.inspect(s.id)).cpuNanos - cpu0) / wall, throttles: throttled(s.id) - thr0 };
      };
      // Both loops run at once, so host contention (the machine is shared) weighs on both alike.
      // A run tells only when the quota was what bound: the kernel throttled the limited loop,
      // or the unlimited one got clearly more. On a host too busy for either, try again.
      for (let attempt = 1; ; attempt++) {
        const [got, free] = await Promise.all([run(limited), run(baseline)]);
        const seen = `limited: ${got.share.toFixed(3)} CPUs, ${got.throttles} throttles; unlimited: ${free.share.toFixed(3)} CPUs, ${free.throttles} throttles`;
        // The kernel enforces the quota per 100 ms period; allow one period of slack over 3 s.
        assert.ok(got.share <= quota * 1.05 + 0.04, `over its quota of ${quota}: ${seen}`);
        assert.equal(free.throttles, 0, `the unlimited loop was throttled: ${seen}`);
        if (got.throttles > 0 || free.share > quota * 1.5) break;
        assert.ok(attempt < 3, `the host was too busy to see the quota bind in 3 runs: ${seen}`);
      }
      await t.engine.destroy(limited.id);
      await t.engine.destroy(baseline.id);
    });
  });
}

describe('runc: AppArmor', () => {
  it('confines runc sandboxes where the host has AppArmor, and says so where it has none', () => {
    const host = detectAppArmor();
    const runc = t.drivers.get('runc')!;
    assert.equal(runc.apparmorProfile !== undefined, host.available, host.detail);
    const spec = buildSpec({
      id: 'x', hostname: 'x', runtime: 'runc', rootfs: '/r', args: ['/init'], env: {}, limits: { cpu: 1, memoryMiB: 128, pids: 64 },
      binds: [], cgroupsPath: '/agentbox/x', userns: { hostId: 2 ** 30, size: 65536 }, apparmorProfile: runc.apparmorProfile,
    }) as { process: { apparmorProfile?: string }; linux: { maskedPaths: string[] } };
    assert.equal(spec.process.apparmorProfile, runc.apparmorProfile);
    for (const p of ['/proc/interrupts', '/sys/devices/virtual/powercap', '/sys/kernel/security']) assert.ok(MASKED_PATHS.includes(p) && spec.linux.maskedPaths.includes(p), p);
    // Detection on a host without the LSM, and on one without the parser.
    const fake = mkdtempSync(join(tmpdir(), 'apparmor-'));
    try {
      assert.equal(detectAppArmor(fake, []).available, false);
      mkdirSync(join(fake, 'apparmor'));
      assert.match(detectAppArmor(fake, []).detail, /apparmor_parser is not installed/);
      assert.equal(detectAppArmor(fake, ['/bin/true']).available, true);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
    assert.match(runcProfile(), /deny mount,/);
  });

  it('the profile compiles, where apparmor_parser is installed', (ctx) => {
    const parser = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find(existsSync);
    if (!parser) return ctx.skip('apparmor_parser is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'apparmor-profile-'));
    try {
      writeFileSync(join(dir, 'p'), runcProfile());
      // -Q: compile only, never load into a kernel; -K: no cache.
      execFileSync(parser, ['-Q', '-K', join(dir, 'p')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
