/** What is asked of a sandbox while it lives: run a command, change its environment or egress, report its usage. */
import { invalidArgument } from '../api/errors.ts';
import { diskUsage } from './images/disk.ts';
import { validateEnv } from './lifecycle.ts';
import { validateEgressPolicy } from './network/egress.ts';
import { cgroupUsage } from './runtime/cgroups.ts';
import type { SandboxTable } from './sandbox-table.ts';
import type { EgressPolicy, ExecRequest, ExecResult, SandboxInfo, SandboxUsage } from './types.ts';

export async function exec(t: SandboxTable, id: string, req: ExecRequest): Promise<ExecResult> {
  const r = t.record(id);
  t.requireRunning(r, 'exec');
  if (!Array.isArray(req.cmd) || req.cmd.length === 0) throw invalidArgument('cmd must be a non-empty argv array');
  return t.guest(r).exec(req);
}

export async function setEgress(t: SandboxTable, id: string, policy: EgressPolicy): Promise<SandboxInfo> {
  const r = t.record(id);
  const egress = validateEgressPolicy(policy);
  await t.firewall.apply(t.link(r), egress);
  r.egress = egress;
  await t.store.save(r);
  return t.info(r);
}

export async function setEnv(t: SandboxTable, id: string, env: Record<string, string>): Promise<SandboxInfo> {
  validateEnv(env);
  return t.serialized(id, async () => {
    const r = t.record(id);
    t.requireRunning(r, 'setting its environment');
    await t.guest(r).init(r.initSecret, { envVars: env });
    r.env = { ...r.env, ...env };
    await t.store.save(r);
    // The guest config file is re-read at a cold boot (after a host reboot): keep it current.
    await t.writeBundle(r, t.link(r));
    return t.info(r);
  });
}

export async function inspect(t: SandboxTable, id: string): Promise<SandboxUsage> {
  const r = t.record(id);
  const [status, usage] = await Promise.all([t.driver(r.runtime).status(id), cgroupUsage(id)]);
  // t.pids, not runsc alone: runsc's state still says running for a sandbox a checkpoint stopped
  // until its container is deleted, just after the pause (pause/checkpoint.ts).
  const running = t.pids.has(id) && (status?.status === 'running' || status?.status === 'paused');
  return { pid: running ? status!.pid : undefined, ...usage, disk: diskUsage(t.paths(id).disk) };
}
