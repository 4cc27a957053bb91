/**
 * `agentbox doctor`: what is installed, which runtime and platform would be used, and what to
 * fix. Exit code 0 when `agentbox up` can run here, 1 otherwise.
 */
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, release, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { RuntimeName } from '../../api/native.ts';
import { detectAppArmor, RUNC_PROFILE } from '../../engine/runtime/apparmor.ts';
import { hostPidsLimit } from '../../engine/runtime/oci-spec.ts';
import { allSandboxesCeiling, hostPidMax, perSandboxCeiling } from '../../engine/runtime/pids-ceiling.ts';
import { createDriver, defaultCacheDir, discoverRuntimeClasses, pinnedRuntimeClasses, runtimeClassesFile } from '../../engine/runtime/runtime-classes.ts';
import { agentboxHome, DEFAULT_URL } from '../../sdk/config.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type CliIo, type Command } from '../io.ts';

type Status = 'ok' | 'warn' | 'fail';
interface Check { name: string; status: Status; detail: string; fix?: string }

function onPath(io: CliIo, bin: string): string | undefined {
  for (const dir of (io.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* keep looking */ }
  }
  return undefined;
}

export const doctor: Command = async (args, io) => {
  const { bools, positionals } = parseFlags(args, flagsOf('doctor'));
  if (positionals.length) throw new UsageError('usage: agentbox doctor [--json]');
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  add({ name: 'node', status: major > 20 || (major === 20 && minor >= 6) ? 'ok' : 'fail', detail: process.version, fix: 'install Node.js 20.6 or newer' });
  add({ name: 'platform', status: process.platform === 'linux' ? 'ok' : 'fail', detail: `${process.platform} ${arch()} kernel ${release()}`, fix: 'agentbox runs sandboxes on Linux only' });
  add({ name: 'root', status: process.getuid?.() === 0 ? 'ok' : 'fail', detail: process.getuid?.() === 0 ? 'running as root' : `uid ${process.getuid?.()}`, fix: 'run agentbox as root (namespaces, cgroups, nftables)' });
  const cgroup2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  add({ name: 'cgroups', status: cgroup2 || existsSync('/sys/fs/cgroup/memory') ? 'ok' : 'fail', detail: cgroup2 ? 'v2' : existsSync('/sys/fs/cgroup/memory') ? 'v1' : 'not mounted', fix: 'mount the cgroup hierarchies' });
  add({ name: 'kvm', status: existsSync('/dev/kvm') ? 'ok' : 'warn', detail: existsSync('/dev/kvm') ? '/dev/kvm present' : 'no /dev/kvm', fix: 'only needed for the microvm runtime class (later)' });
  for (const [bin, pkg, required] of [['mmdebstrap', 'mmdebstrap', true], ['nft', 'nftables', true], ['ip', 'iproute2', true], ['mkfs.ext4', 'e2fsprogs', true], ['losetup', 'mount', true], ['tini-static', 'tini', false], ['busybox', 'busybox-static', false]] as const) {
    const p = onPath(io, bin);
    add({ name: bin, status: p ? 'ok' : required ? 'fail' : 'warn', detail: p ?? 'not found', fix: `apt-get install ${pkg} (or: npm run setup)` });
  }
  const cacheDir = defaultCacheDir();
  const home = agentboxHome(io.env);
  // What `agentbox up` runs: the home's pinned classes once it has started, else what it would pin.
  const discovered = await discoverRuntimeClasses(cacheDir);
  const pinned = await pinnedRuntimeClasses(home);
  const classes = pinned ?? discovered;
  const state = mkdtempSync(join(tmpdir(), 'agentbox-doctor-'));
  let usable = 0;
  try {
    for (const name of RuntimeName.options) {
      const c = classes.find((x) => x.name === name);
      if (!c) {
        add({ name: `runtime ${name}`, status: 'warn', detail: 'not installed', fix: name === 'gvisor' ? 'apt-get install runsc, or build a current runsc (scripts in scripts/)' : 'apt-get install runc' });
        continue;
      }
      try {
        const d = await createDriver(c, cacheDir, state);
        usable++;
        const fastPath = d.systrapFastPath ? `, systrap fast path ${d.systrapFastPath}` : '';
        const how = d.platform ? `platform ${d.platform}${fastPath}` : `user namespaces, seccomp${d.apparmorProfile ? ', AppArmor' : ''}`;
        const other = discovered.find((x) => x.name === name)?.assets[process.arch];
        if (pinned && other && other.sha256 !== d.binarySha256) {
          // A checkpoint restores only with the binary that took it, so the home keeps its pin.
          add({
            name: `runtime ${name}`, status: 'warn',
            detail: `${d.binary} (${how}), pinned by ${runtimeClassesFile(home)}; this host has another build: ${other.url} (sha256 ${other.sha256.slice(0, 12)}…)`,
            fix: `delete ${runtimeClassesFile(home)} to take the other build once no paused sandbox or snapshot needs this one`,
          });
          continue;
        }
        add({ name: `runtime ${name}`, status: 'ok', detail: `${d.binary} (${how})`, ...(d.platform === 'ptrace' ? { fix: 'ptrace is slow (≈30-50 ms per syscall-heavy exec): build a current runsc for systrap' } : {}) });
      } catch (err) {
        add({ name: `runtime ${name}`, status: 'fail', detail: (err as Error).message, fix: 'reinstall the runtime; see agentbox doctor output above' });
      }
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
  if (!usable) add({ name: 'runtimes', status: 'fail', detail: 'no usable runtime class', fix: 'apt-get install runsc runc' });
  const apparmor = detectAppArmor();
  add(apparmor.available
    ? { name: 'apparmor', status: 'ok', detail: `${apparmor.detail}: runc sandboxes run under the ${RUNC_PROFILE} profile` }
    : { name: 'apparmor', status: 'warn', detail: `${apparmor.detail}: runc sandboxes run without an AppArmor profile (user namespaces and seccomp only)`, fix: 'only on hosts whose kernel has AppArmor: apt-get install apparmor' });
  const pidMax = hostPidMax();
  const perSandbox = perSandboxCeiling(pidMax);
  add({
    name: 'pids',
    status: perSandbox >= hostPidsLimit('gvisor', 1024, Number.MAX_SAFE_INTEGER) ? 'ok' : 'warn',
    detail: `pid_max ${pidMax}: at most ${perSandbox} host tasks per sandbox, ${allSandboxesCeiling(pidMax)} for all together`,
    fix: 'a gVisor sandbox with the default pids (1024) may be stopped before reaching it: sysctl -w kernel.pid_max=4194304',
  });
  const keyFile = join(home, 'admin.key');
  add({ name: 'home', status: 'ok', detail: `${home}${existsSync(keyFile) ? ` (admin key ${keyFile})` : ' (no admin key yet: agentbox up writes it)'}` });
  const url = io.env.AGENTBOX_URL ?? DEFAULT_URL;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    add({ name: 'server', status: res.ok ? 'ok' : 'warn', detail: `${url} answered ${res.status}` });
  } catch {
    add({ name: 'server', status: 'warn', detail: `nothing answers at ${url}`, fix: 'start it with `agentbox up`' });
  }
  if (existsSync('/etc/os-release')) {
    const pretty = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) add({ name: 'os', status: 'ok', detail: pretty });
  }
  const failed = checks.some((c) => c.status === 'fail');
  if (bools.has('json')) {
    print(io, JSON.stringify({ ok: !failed, checks }));
  } else {
    const mark: Record<Status, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };
    for (const c of checks) {
      print(io, `${mark[c.status]}  ${c.name.padEnd(16)} ${c.detail}`);
      if (c.status !== 'ok' && c.fix) print(io, `      ${''.padEnd(16)} → ${c.fix}`);
    }
    print(io, failed ? '\nagentbox cannot run here yet: fix the FAIL lines.' : '\nagentbox can run here: `agentbox up`.');
  }
  return failed ? 1 : 0;
};
