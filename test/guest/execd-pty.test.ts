// test-file-guests: typescript native
// execd's PTY sessions (POST/GET/DELETE /pty, the /pty/{id}/ws WebSocket) against a real guest
// process: typing into a shell on a terminal, resize, signals, pipe mode, replay from an offset,
// one client per session with takeover, the exit frame and the refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECD_TOKEN_HEADER } from '../../src/api/opensandbox-execd.ts';
import { execdFetch, streamEvents, texts, type ExecdCaller } from '../support/execd-client.ts';
import { PtyClient } from '../support/execd-pty-client.ts';
import { waitFor } from '../support/wait.ts';
import { startGuest, type RunningGuest } from './fixture.ts';

let g: RunningGuest;
let home = '';
let c: ExecdCaller;
before(async () => {
  // The interactive shells run on the host here, not in a sandbox: an empty HOME keeps the host
  // user's ~/.bashrc out of them (pyenv's rehash there waits up to a minute on its lock file, and
  // a shell these tests kill mid-rehash leaves that lock behind for the next one).
  home = mkdtempSync(join(tmpdir(), 'agentbox-pty-home-'));
  // Interactive bash ignores the SIGTERM the guest's stop passes on and writes its history when
  // the hang-up reaches it, seconds later at times: to /dev/null, so the home can be removed.
  g = await startGuest({ config: { execdPort: 0, envVars: { HOME: home, HISTFILE: '/dev/null' } } });
  c = { url: g.execdUrl!, token: g.accessToken };
});
after(async () => {
  await g?.stop();
  if (home) rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function newPty(body: Record<string, unknown> = {}): Promise<string> {
  const r = await execdFetch(c, '/pty', { body });
  assert.equal(r.status, 200);
  const { session_id } = (await r.json()) as { session_id: string };
  assert.match(session_id, /^[0-9a-f]{32}$/);
  return session_id;
}

const wsUrl = (id: string, query = '') => `${c.url.replace(/^http/, 'ws')}/pty/${id}/ws${query}`;
const attach = (id: string, query = '') => PtyClient.open(wsUrl(id, query), { [EXECD_TOKEN_HEADER]: c.token! });

async function status(id: string): Promise<{ session_id: string; running: boolean; output_offset: number }> {
  const r = await execdFetch(c, `/pty/${id}`);
  assert.equal(r.status, 200);
  return (await r.json()) as { session_id: string; running: boolean; output_offset: number };
}

describe('a shell on a terminal', () => {
  test('typed input runs; stdin is a terminal; resize changes its size; output_offset counts the bytes', async () => {
    const id = await newPty({ cwd: g.dir });
    assert.equal((await status(id)).running, false, 'the process starts with the first client');
    const t = await attach(id);
    try {
      const connected = await t.frame('connected');
      assert.equal(connected.session_id, id);
      assert.equal(connected.pty, true);
      t.type('test -t 0 && echo "tty=$((6*7))"; pwd\n');
      await t.output(/tty=42/);
      await t.output(new RegExp(g.dir));
      t.control({ type: 'resize', cols: 123, rows: 45 });
      t.type('stty size\n');
      await t.output(/45 123/);
      const s = await status(id);
      assert.equal(s.running, true);
      assert.equal(s.output_offset, Buffer.byteLength(t.stdout));
      t.control({ type: 'ping' });
      await t.frame('pong');
    } finally {
      t.close();
    }
  });

  test('a SIGINT control message interrupts the foreground job, not the shell', async () => {
    const id = await newPty();
    const t = await attach(id);
    try {
      // Its own line: an interactive bash abandons the rest of a line whose job SIGINT killed.
      t.type('sleep 3171\n');
      await waitFor('sleep to start', async () => texts((await streamEvents(c, '/command', { command: 'pgrep -a -x sleep | grep -w 3171' })).events, 'stdout').length > 0);
      t.control({ type: 'signal', signal: 'SIGINT' });
      t.type('echo "after=$?"\n');
      await t.output(/after=130/);
      t.type('echo "shell-alive"\n');
      await t.output(/shell-alive/);
    } finally {
      t.close();
    }
  });

  test('exit: the exit frame carries the shell\'s exit code and the socket closes; a later client gets the same frame', async () => {
    const id = await newPty();
    const t = await attach(id);
    t.type('exit 3\n');
    assert.equal((await t.frame('exit')).exit_code, 3);
    assert.equal((await t.closedWith()).code, 1000);
    assert.equal((await status(id)).running, false);
    const late = await attach(id);
    assert.equal((await late.frame('exit')).exit_code, 3);
    await late.closedWith();
  });
});

describe('pipe mode (pty=0)', () => {
  test('a command\'s stdout and stderr arrive on their own channels; stdin is not a terminal', async () => {
    const id = await newPty({ command: 'read line; echo "got $line"; test -t 0 || echo "no tty" >&2; exit 5' });
    const t = await attach(id, '?pty=0');
    assert.equal((await t.frame('connected')).pty, false);
    t.type('hello\n');
    await t.output(/got hello/);
    await t.output(/no tty/, 'stderr');
    assert.equal((await t.frame('exit')).exit_code, 5);
  });
});

describe('replay and reconnect', () => {
  test('since= replays the kept output from that offset in one frame naming its offset', async () => {
    const id = await newPty({ command: 'printf "first-part|"; read x; printf "second-part|"; read y' });
    const a = await attach(id, '?pty=0');
    await a.output(/first-part\|/);
    const mark = (await status(id)).output_offset;
    assert.equal(mark, 'first-part|'.length);
    a.type('\n');
    await a.output(/second-part\|/);
    a.close();
    await a.closedWith();
    // Output made while no client is attached is kept too.
    const b = await attach(id, `?since=${mark}`);
    const replay = await waitFor('the replay frame', () => b.replays[0]);
    assert.deepEqual(replay, { offset: mark, data: 'second-part|' });
    b.close();
    await b.closedWith();
    const all = await attach(id, '?since=0');
    assert.deepEqual(await waitFor('the replay frame', () => all.replays[0]), { offset: 0, data: 'first-part|second-part|' });
    // Without since= there is no replay, only live output.
    all.close();
    await all.closedWith();
    const live = await attach(id);
    await live.frame('connected');
    assert.equal(live.replays.length, 0);
    live.type('\n');
    assert.equal((await live.frame('exit')).exit_code, 0);
  });
});

describe('flow control', () => {
  const FLOOD = 32 * 1024 * 1024;
  // Pipe mode only: a terminal's output is not held back (src/guest/process/spawn-pty.ts; pausing
  // node-pty lost the output still in the terminal when the process exited, 1 run in 4), so a slow
  // terminal client is buffered by the guest (docs/opensandbox-execd.md).
  for (const mode of ['0']) {
    test(`pty=${mode}: a client that stops reading holds the process back; once it reads again it gets every byte`, async () => {
      const id = await newPty({ command: `head -c ${FLOOD} /dev/zero | tr '\\0' x` });
      const t = await attach(id, `?pty=${mode}`);
      const socket = (t.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      // Without flow control the flood ends at once (the guest would buffer it all for the client).
      let last = -1;
      const held = await waitFor('the output to stop advancing', async () => {
        const s = await status(id);
        const stable = s.output_offset === last;
        last = s.output_offset;
        return stable && s;
      }, 60_000, 500);
      assert.equal(held.running, true, 'the process was blocked, not finished');
      assert.ok(held.output_offset < FLOOD, `held at ${held.output_offset} of ${FLOOD} bytes`);
      socket.resume();
      assert.equal((await t.frame('exit')).exit_code, 0);
      assert.equal(Buffer.byteLength(t.stdout), FLOOD);
      assert.equal((await status(id)).output_offset, FLOOD);
    });
  }
});

describe('one client per session', () => {
  test('a second client is refused with 409; takeover=1 replaces the first, which is closed with 4001 TAKEN_OVER', async () => {
    const id = await newPty();
    const first = await attach(id);
    await first.frame('connected');
    const refused = await attach(id).then(() => undefined, (e: { status: number; body: string }) => e);
    assert.equal(refused?.status, 409);
    assert.equal((JSON.parse(refused!.body) as { code: string }).code, 'RUNTIME_ERROR');
    const second = await attach(id, '?takeover=1');
    assert.deepEqual(await first.closedWith(), { code: 4001, reason: 'TAKEN_OVER' });
    second.type('echo "second-drives"\n');
    await second.output(/second-drives/);
    assert.ok(!first.stdout.includes('second-drives'));
    second.close();
  });
});

describe('delete and refusals', () => {
  test('DELETE /pty/{id} kills the process and closes its client; the id is then unknown', async () => {
    const id = await newPty();
    const t = await attach(id);
    await t.frame('connected');
    const del = await execdFetch(c, `/pty/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await t.closedWith();
    assert.equal((await execdFetch(c, `/pty/${id}`)).status, 404);
    const gone = await attach(id).then(() => undefined, (e: { status: number }) => e);
    assert.equal(gone?.status, 404);
  });

  test('a WebSocket without the token is 401; a bad pty= or since= is 400; a plain GET of /ws is 400', async () => {
    const id = await newPty();
    const anon = await PtyClient.open(wsUrl(id), {}).then(() => undefined, (e: { status: number }) => e);
    assert.equal(anon?.status, 401);
    for (const q of ['?pty=2', '?since=-1', '?since=abc']) {
      const bad = await attach(id, q).then(() => undefined, (e: { status: number; body: string }) => e);
      assert.equal(bad?.status, 400, q);
      assert.equal((JSON.parse(bad!.body) as { code: string }).code, 'INVALID_REQUEST_BODY');
    }
    assert.equal((await execdFetch(c, `/pty/${id}/ws`)).status, 400);
    assert.equal((await execdFetch(c, '/pty', { raw: '{' , headers: { 'content-type': 'application/json' } })).status, 400);
  });

  test('a malformed control message gets an error frame and the session goes on', async () => {
    const id = await newPty();
    const t = await attach(id);
    try {
      t.control({ type: 'signal', signal: 'SIGNOPE' });
      assert.match(String((await t.frame('error')).message), /signal must be one of/);
      t.type('echo "still-here"\n');
      await t.output(/still-here/);
    } finally {
      t.close();
    }
  });
});
