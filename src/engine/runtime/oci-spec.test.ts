/**
 * The runc hardening and the pids ceilings as data: what the OCI spec asks of the runtime.
 * test/security/runc.test.ts and pids.test.ts prove the same on real sandboxes; these pin the
 * rules so that a change to them is a visible, reviewed change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec, hostPidsLimit } from './oci-spec.ts';
import { allSandboxesCeiling, perSandboxCeiling } from './pids-ceiling.ts';
import { CLONE_NAMESPACE_FLAGS, runcSeccompProfile } from './seccomp.ts';
import { ID_BASE, ID_RANGE, sandboxIdMapping } from './userns.ts';

interface Rule { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }
const profile = runcSeccompProfile() as { defaultAction: string; defaultErrnoRet: number; syscalls: Rule[] };
const allowedUnconditionally = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));

describe('runc seccomp profile', () => {
  it('denies by default with EPERM', () => {
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
  });

  it('never allows namespaces, mounts, keyrings, BPF, perf, userfaultfd, io_uring, kexec or modules', () => {
    for (const name of ['unshare', 'setns', 'clone', 'clone3', 'mount', 'umount2', 'pivot_root', 'fsopen', 'fsmount', 'fsconfig', 'open_tree',
      'move_mount', 'mount_setattr', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup',
      'io_uring_enter', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'ptrace', 'process_vm_readv',
      'process_vm_writev', 'open_by_handle_at', 'reboot', 'swapon', 'settimeofday', 'clock_settime', 'syslog', 'acct', 'quotactl']) {
      assert.ok(!allowedUnconditionally.has(name), `${name} is allowed`);
    }
  });

  it('allows clone only without CLONE_NEW* flags, and answers clone3 with ENOSYS', () => {
    const clone = profile.syscalls.filter((r) => r.names.includes('clone'));
    assert.deepEqual(clone.map((r) => r.action), ['SCMP_ACT_ALLOW']);
    // (flags & mask) == 0, the mask covering every namespace flag clone(2) takes.
    assert.deepEqual(clone[0]!.args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      assert.equal(CLONE_NAMESPACE_FLAGS & flag, flag, `flag 0x${flag.toString(16)} is not masked`);
    }
    const clone3 = profile.syscalls.filter((r) => r.names.includes('clone3'));
    assert.deepEqual(clone3.map((r) => [r.action, r.errnoRet]), [['SCMP_ACT_ERRNO', 38]]);
  });
});

describe('runc user namespaces', () => {
  it('give every slot its own range of unprivileged ids', () => {
    const a = sandboxIdMapping(0);
    const b = sandboxIdMapping(1);
    assert.deepEqual(a, { hostId: ID_BASE, size: ID_RANGE });
    assert.equal(b.hostId, a.hostId + a.size);
    const lastSlot = Math.floor((2 ** 32 - 1 - ID_BASE) / ID_RANGE) - 1;
    const last = sandboxIdMapping(lastSlot);
    assert.ok(last.hostId + last.size <= 2 ** 32 - 1, 'the last range ends below (uid_t)-1');
    assert.throws(() => sandboxIdMapping(lastSlot + 1), /no user id range left/);
  });

  it('appear in the spec only for runc, with /sys bound from the host', () => {
    const base = { id: 'x', hostname: 'x', rootfs: '/r', args: ['/init'], env: {}, limits: { cpu: 1, memoryMiB: 128, pids: 64 }, binds: [], cgroupsPath: '/agentbox/x' };
    type Spec = { linux: { namespaces: { type: string }[]; uidMappings?: unknown }; mounts: { destination: string; type: string }[] };
    const runc = buildSpec({ ...base, runtime: 'runc', userns: sandboxIdMapping(3) }) as Spec;
    assert.ok(runc.linux.namespaces.some((n) => n.type === 'user'));
    assert.deepEqual(runc.linux.uidMappings, [{ containerID: 0, hostID: ID_BASE + 3 * ID_RANGE, size: ID_RANGE }]);
    assert.equal(runc.mounts.find((m) => m.destination === '/sys')!.type, 'bind');
    const gvisor = buildSpec({ ...base, runtime: 'gvisor' }) as Spec;
    assert.ok(!gvisor.linux.namespaces.some((n) => n.type === 'user'));
    assert.equal(gvisor.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
  });
});

describe('pids ceilings', () => {
  it('derive from pid_max: an eighth per sandbox, all but a quarter for all of them', () => {
    assert.equal(perSandboxCeiling(32768), 4096);
    assert.equal(allSandboxesCeiling(32768), 24576);
    assert.equal(allSandboxesCeiling(4096), 2048, 'the reserve is at least 2048');
    assert.equal(allSandboxesCeiling(4194304), 3145728);
  });

  it('cap the host backstop of every sandbox', () => {
    assert.equal(hostPidsLimit('runc', 64, 32768), 64);
    assert.equal(hostPidsLimit('gvisor', 64, 32768), 448);
    assert.equal(hostPidsLimit('gvisor', 1024, 32768), 3328);
    assert.equal(hostPidsLimit('gvisor', 4096, 32768), 4096, 'never above pid_max / 8');
    assert.equal(hostPidsLimit('runc', 4096, 16384), 2048);
  });
});
