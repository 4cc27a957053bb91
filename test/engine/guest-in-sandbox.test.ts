// test-file-guests: typescript native
/**
 * The guest protocol inside real sandboxes (the exhaustive per-RPC tests run against a local
 * guest in test/guest): a Connect client from the host drives process streaming, PTY, file
 * watch and /files through the sandbox's network link, under gVisor, in the `base` image
 * (built with mmdebstrap) and in the busybox image.
 */
// A first build of `base` downloads and installs Debian packages: minutes on a fresh machine.
// test-file-timeout: 40 min
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { userHeader } from '../../src/api/envd-protocol.ts';
import { METADATA_HEADER_PREFIX } from '../../src/guest/filesystem/metadata.ts';
import { createGuestClient } from '../../src/envd/client.ts';
import { startTestEngine, type TestEngine } from './fixture.ts';

let t: TestEngine;
before(async () => {
  t = await startTestEngine('guest-in-sandbox');
  await t.templates.ensure('busybox');
  await t.templates.ensure('base');
});
after(() => t.cleanup());

for (const template of ['base', 'busybox']) {
  describe(`${template} image`, () => {
    it('streams output, runs a PTY, watches files and serves /files', { timeout: 180_000 }, async () => {
      const sbx = await t.engine.run({ template });
      const guest = createGuestClient({ url: sbx.guest.url, accessToken: sbx.guest.accessToken });
      try {
        assert.equal(sbx.runtime, 'gvisor', 'these tests claim gVisor');
        // Streaming: events arrive in order start, data…, end.
        const kinds: string[] = [];
        let out = '';
        for await (const ev of guest.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'echo one; sleep 0.2; echo two >&2; exit 3'], envs: {} } })) {
          const e = ev.event?.event;
          if (!e) continue;
          kinds.push(e.case!);
          if (e.case === 'data' && e.value.output.case === 'stdout') out += Buffer.from(e.value.output.value).toString();
          if (e.case === 'end') assert.equal(e.value.exitCode, 3);
        }
        assert.equal(kinds[0], 'start');
        assert.equal(kinds.at(-1), 'end');
        assert.equal(out, 'one\n');

        // PTY: a terminal of the requested size.
        let pty = '';
        for await (const ev of guest.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'stty size; sleep 0.2'], envs: {} }, pty: { size: { cols: 91, rows: 37 } } })) {
          const e = ev.event?.event;
          if (e?.case === 'data' && e.value.output.case === 'pty') pty += Buffer.from(e.value.output.value).toString();
        }
        assert.match(pty, /37 91/);

        // Watch: a file created in the watched directory is reported. The guest sends `start`
        // once the watch is established; the file is written only then.
        const home = '/home/user';
        const abort = new AbortController();
        const seen: string[] = [];
        let live!: () => void;
        const started = new Promise<void>((r) => { live = r; });
        const watching = (async () => {
          try {
            for await (const ev of guest.filesystem.watchDir({ path: home, recursive: false }, { signal: abort.signal, headers: userHeader('user') })) {
              if (ev.event.case === 'start') live();
              if (ev.event.case === 'filesystem') seen.push(ev.event.value.name);
              if (seen.includes('watched.txt')) abort.abort();
            }
          } catch {
            // aborted
          }
        })();
        await started;
        await t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', `echo x > ${home}/watched.txt`] });
        await watching;
        assert.ok(seen.includes('watched.txt'), `watch saw ${seen.join(',')}`);

        // /files: upload, then download through the same link.
        const up = await fetch(`${sbx.guest.url}/files?path=${encodeURIComponent(`${home}/up.bin`)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'x-access-token': sbx.guest.accessToken },
          body: Buffer.alloc(100_000, 7),
        });
        assert.equal(up.status, 200);
        const down = await fetch(`${sbx.guest.url}/files?path=${encodeURIComponent(`${home}/up.bin`)}`, { headers: { 'x-access-token': sbx.guest.accessToken } });
        assert.equal(Buffer.from(await down.arrayBuffer()).equals(Buffer.alloc(100_000, 7)), true);
        // Without the token the guest refuses RPCs.
        const anon = await fetch(`${sbx.guest.url}/process.Process/List`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal(anon.status, 401);
      } finally {
        guest.close();
        await t.engine.destroy(sbx.id);
      }
    });

    it('gives programs pipes they can reopen as /dev/stdin, /dev/stdout and /dev/stderr, as root and as user', { timeout: 180_000 }, async () => {
      const sbx = await t.engine.run({ template });
      try {
        // Several rounds: the pipes of later commands are made after programs of another user
        // started (a start as `user` must not lock the guest out of the factory's new pipes).
        for (let round = 0; round < 3; round++) {
          for (const user of ['user', 'user', 'root']) {
            const res = await t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', 'cat /dev/stdin > /dev/stdout; echo err > /dev/stderr'], stdin: 'in\n', user, timeoutMs: 20_000 });
            assert.deepEqual([res.exitCode, res.stdout, res.stderr], [0, 'in\n', 'err\n'], `${user}, round ${round}`);
          }
        }
      } finally {
        await t.engine.destroy(sbx.id);
      }
    });

    it('writes files as user and starts programs concurrently without locking the guest out of the process factory', { timeout: 180_000 }, async () => {
      // The factory opens a user's files with the user's effective ids, and a program's start
      // switches ids in a child on the factory's memory: either makes the factory non-dumpable
      // for a moment, which closes /proc/<factory>/fd, through which the guest reopens those
      // files and the pipes of later programs. Forty of each at once, interleaved.
      const sbx = await t.engine.run({ template });
      try {
        const dir = `/home/user/concurrent-${template}`;
        const writes = Array.from({ length: 40 }, async (_, i) => {
          const res = await fetch(`${sbx.guest.url}/files?path=${encodeURIComponent(`${dir}/f${i}.txt`)}`, {
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream', 'x-access-token': sbx.guest.accessToken, [`${METADATA_HEADER_PREFIX}n`]: String(i) },
            body: `file ${i}\n`,
          });
          return `${i}: ${res.status} ${await res.text()}`;
        });
        const runs = Array.from({ length: 40 }, (_, i) =>
          t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', `echo run ${i}`], user: 'user', timeoutMs: 30_000 }).then((r) => `${r.exitCode} ${r.stdout}`, (err: Error) => err.message));
        const [written, ran] = await Promise.all([Promise.all(writes), Promise.all(runs)]);
        assert.deepEqual(written.filter((w) => !/^\d+: 200 /.test(w)), [], 'every write succeeded');
        assert.deepEqual(ran, ran.map((_, i) => `0 run ${i}\n`));
        const listing = await t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', `cd ${dir} && for i in $(seq 0 39); do echo "$(stat -c %U f$i.txt) $(cat f$i.txt)"; done`] });
        assert.equal(listing.stdout, Array.from({ length: 40 }, (_, i) => `user file ${i}\n`).join(''));
        // Nor did a slot's pipes fail to open, which would have sent a start around the factory.
        assert.doesNotMatch(readFileSync(t.engine.logPath(sbx.id), 'utf8'), /"level":"error"/);
      } finally {
        await t.engine.destroy(sbx.id);
      }
    });
  });
}

describe('base template', () => {
  it('has bash, python3, git, curl and a non-root user with home /home/user', { timeout: 180_000 }, async () => {
    const sbx = await t.engine.run({ template: 'base' });
    try {
      assert.equal(sbx.runtime, 'gvisor', 'these tests claim gVisor');
      const res = await t.engine.exec(sbx.id, { cmd: ['/bin/bash', '-lc', 'id -un; echo $HOME; pwd; python3 -c "print(6*7)"; git --version | cut -d" " -f1; curl --version | head -c 4'] });
      assert.equal(res.exitCode, 0, res.stderr);
      assert.equal(res.stdout, 'user\n/home/user\n/home/user\n42\ngit\ncurl');
    } finally {
      await t.engine.destroy(sbx.id);
    }
  });
});
