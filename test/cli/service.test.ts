// `agentbox service install|uninstall` as a real subprocess. The test machine has no systemd as
// PID 1, so `systemctl` is a stand-in script (AGENTBOX_SYSTEMCTL) that records its arguments and
// answers `is-system-running` as told; the unit goes to a temporary unit directory and is
// checked by the real `systemd-analyze verify` (Debian's systemd, scripts/cli-shells.sh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bin, runCli } from './run-cli.ts';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'agentbox-service-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

/** A systemctl stand-in: appends each call's arguments as one line to `calls`, answers is-system-running with `state`. */
function fakeSystemctl(state: string): { path: string; calls: () => string[] } {
  const path = join(dir, `systemctl-${state}`);
  const log = join(dir, `calls-${state}`);
  writeFileSync(path, `#!/bin/sh\necho "$*" >> '${log}'\nif [ "$1" = is-system-running ]; then echo ${state}; [ ${state} = running ]; exit $?; fi\n`, { mode: 0o755 });
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

test('install writes a unit systemd-analyze accepts and enables it; uninstall stops, disables and removes it', async () => {
  const systemctl = fakeSystemctl('running');
  const unitDir = join(dir, 'units');
  const env = { AGENTBOX_SYSTEMCTL: systemctl.path };
  const installed = await runCli(['service', 'install', '--unit-dir', unitDir, '--port', '7999', '--runtime', 'gvisor'], { env });
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, /journalctl -u agentbox/);
  const unitPath = join(unitDir, 'agentbox.service');
  assert.deepEqual(systemctl.calls(), ['is-system-running', 'daemon-reload', 'enable --now agentbox.service']);
  assert.equal(statSync(unitPath).mode & 0o777, 0o644);
  const unit = readFileSync(unitPath, 'utf8');
  assert.ok(unit.includes(`ExecStart="${process.execPath}" "${realpathSync(bin)}" "up" "--host" "127.0.0.1" "--port" "7999" "--runtime" "gvisor"\n`), unit);
  for (const line of ['Environment="AGENTBOX_HOME=/var/lib/agentbox"', 'StateDirectory=agentbox', 'StandardError=journal', 'Restart=on-failure', 'KillMode=process', 'WantedBy=multi-user.target']) {
    assert.ok(unit.split('\n').includes(line), `${line} in\n${unit}`);
  }
  // What would take the server its namespaces, cgroups or mounts is not there.
  assert.doesNotMatch(unit, /^(ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|NoNewPrivileges|ProtectControlGroups)=/m);
  const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  assert.deepEqual({ status: verify.status, stderr: verify.stderr }, { status: 0, stderr: '' });

  const removed = await runCli(['service', 'uninstall', '--unit-dir', unitDir], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(unitPath), false);
  assert.deepEqual(systemctl.calls().slice(3), ['is-system-running', 'disable --now agentbox.service', 'daemon-reload']);
  const again = await runCli(['service', 'uninstall', '--unit-dir', unitDir], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /agentbox\.service does not exist: the service is not installed/);
});

test('without systemd as init, or without systemctl, install says so and writes nothing', async () => {
  const unitDir = join(dir, 'none');
  const offline = fakeSystemctl('offline');
  const r = await runCli(['service', 'install', '--unit-dir', unitDir], { env: { AGENTBOX_SYSTEMCTL: offline.path } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^agentbox service: unavailable: systemd is not running as init here \(.* is-system-running: offline\)/);
  assert.deepEqual(offline.calls(), ['is-system-running']);
  const missing = await runCli(['service', 'install', '--unit-dir', unitDir], { env: { AGENTBOX_SYSTEMCTL: join(dir, 'no-such-systemctl') } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-systemctl not found: this machine has no systemd/);
  assert.equal(existsSync(unitDir), false);
  assert.equal((await runCli(['service', 'install', '--home', 'relative'])).code, 2);
});
