import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceUnit } from './systemd-unit.ts';

const unit = (o: Partial<Parameters<typeof serviceUnit>[0]> = {}) =>
  serviceUnit({ node: '/usr/bin/node', script: '/opt/agentbox/bin/agentbox.mjs', home: '/var/lib/agentbox', host: '127.0.0.1', port: 7420, ...o }).split('\n');

test('a home under /var/lib is systemd\'s StateDirectory (0700); one elsewhere is only named', () => {
  assert.ok(unit().includes('StateDirectory=agentbox'));
  assert.ok(unit().includes('StateDirectoryMode=0700'));
  const elsewhere = unit({ home: '/srv/agentbox' });
  assert.ok(elsewhere.includes('Environment="AGENTBOX_HOME=/srv/agentbox"'));
  assert.equal(elsewhere.some((l) => l.startsWith('StateDirectory')), false);
});

test('ExecStart words are quoted so systemd neither splits nor substitutes them', () => {
  const start = unit({ script: '/opt/a b/$HOME/%n/"x"\\y.mjs', runtime: 'runc' }).find((l) => l.startsWith('ExecStart='));
  assert.equal(start, 'ExecStart="/usr/bin/node" "/opt/a b/$$HOME/%%n/\\"x\\"\\\\y.mjs" "up" "--host" "127.0.0.1" "--port" "7420" "--runtime" "runc"');
});
