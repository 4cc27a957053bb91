/**
 * `service install|uninstall`: `agentbox up` as a systemd service (the unit is systemd-unit.ts).
 * `systemctl` is $AGENTBOX_SYSTEMCTL when set (the tests give a stand-in that records its
 * arguments: the test machine has no systemd as PID 1).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RuntimeName } from '../../api/native.ts';
import { AgentboxSdkError } from '../../sdk/errors.ts';
import { writeFileAtomic } from '../../server/atomic-file.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type CliIo, type Command } from '../io.ts';
import { DEFAULT_SERVICE_HOME, serviceUnit, UNIT_NAME } from '../systemd-unit.ts';

const USAGE = 'usage: agentbox service install [--home DIR] [--host H] [--port P] [--runtime gvisor|runc] [--unit-dir DIR] | agentbox service uninstall [--unit-dir DIR]';

/** systemd absent or failing: exit 1 with the message (src/cli/main.ts), no stack. */
const systemdError = (message: string) => new AgentboxSdkError('unavailable', message);
const noSystemctl = (bin: string) => systemdError(`${bin} not found: this machine has no systemd; run \`agentbox up\` under the supervisor it has`);

function systemctl(io: CliIo, args: string[]): string {
  const bin = io.env.AGENTBOX_SYSTEMCTL || 'systemctl';
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) {
    throw (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? noSystemctl(bin) : systemdError(`${bin}: ${r.error.message}`);
  }
  if (r.status !== 0) throw systemdError(`${bin} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/** systemd must be the running init: `is-system-running` says `offline` (or fails) where it is not. */
function requireSystemd(io: CliIo): void {
  const bin = io.env.AGENTBOX_SYSTEMCTL || 'systemctl';
  const r = spawnSync(bin, ['is-system-running'], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw noSystemctl(bin);
  const state = (r.stdout ?? '').trim();
  // Exit status is non-zero for `degraded` too, which is a running systemd: the state word decides.
  if (!['running', 'degraded', 'starting', 'initializing', 'maintenance'].includes(state)) {
    throw systemdError(`systemd is not running as init here (${bin} is-system-running: ${state || (r.stderr ?? '').trim() || `exit ${r.status}`}); run \`agentbox up\` under the supervisor this machine has`);
  }
}

export const service: Command = async (args, io) => {
  const [sub, ...rest] = args;
  const { flags, positionals } = parseFlags(rest, flagsOf('service'));
  if (positionals.length || (sub !== 'install' && sub !== 'uninstall')) throw new UsageError(USAGE);
  const unitPath = join(flags['unit-dir'] ?? '/etc/systemd/system', UNIT_NAME);
  if (sub === 'uninstall') {
    for (const k of ['home', 'host', 'port', 'runtime']) if (flags[k] !== undefined) throw new UsageError(USAGE);
    if (!existsSync(unitPath)) throw systemdError(`${unitPath} does not exist: the service is not installed`);
    requireSystemd(io);
    systemctl(io, ['disable', '--now', UNIT_NAME]);
    rmSync(unitPath);
    systemctl(io, ['daemon-reload']);
    print(io, `stopped, disabled and removed ${unitPath} (its state directory and sandboxes stay)`);
    return 0;
  }
  const port = Number(flags.port ?? 7420);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port is a TCP port, 1-65535');
  const runtime = RuntimeName.optional().safeParse(flags.runtime);
  if (!runtime.success) throw new UsageError(`--runtime is ${RuntimeName.options.join(' or ')}`);
  const home = flags.home ?? DEFAULT_SERVICE_HOME;
  if (!home.startsWith('/')) throw new UsageError('--home must be an absolute path');
  requireSystemd(io);
  mkdirSync(dirname(unitPath), { recursive: true });
  writeFileAtomic(unitPath, serviceUnit({
    // The running node and entry script (bin/agentbox.mjs, or dist/agentbox.mjs where only the build ships).
    node: process.execPath, script: realpathSync(process.argv[1]!), home, host: flags.host ?? '127.0.0.1', port,
    ...(runtime.data ? { runtime: runtime.data } : {}),
  }));
  chmodSync(unitPath, 0o644);
  systemctl(io, ['daemon-reload']);
  systemctl(io, ['enable', '--now', UNIT_NAME]);
  print(io, `installed and started ${unitPath} (state in ${home})`);
  print(io, '  journalctl -u agentbox -f        # its logs');
  print(io, `  export AGENTBOX_API_KEY=$(cat ${home}/admin.key)`);
  return 0;
};
