// test-file-guests: typescript native
// execd (OpenSandbox's in-sandbox API) against a real guest process: /ping, the token rule,
// foreground and background commands with their event framing, status, logs, interrupt,
// bash sessions and metrics; every refusal in execd's {code, message} shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EXECD_TAIL_CURSOR_HEADER } from '../../src/api/opensandbox-execd.ts';
import { execdFetch, streamEvents, texts, type ExecdCaller } from '../support/execd-client.ts';
import { waitFor } from '../support/wait.ts';
import { startGuest, type RunningGuest } from './fixture.ts';

let g: RunningGuest;
let c: ExecdCaller;
const envFile = join(tmpdir(), `execd-env-${process.pid}`, '.env');
before(async () => {
  g = await startGuest({ config: { execdPort: 0, execdEnvFile: envFile } });
  c = { url: g.execdUrl!, token: g.accessToken };
});
after(async () => {
  await g?.stop();
  rmSync(dirname(envFile), { recursive: true, force: true });
});

describe('ping and auth', () => {
  test('/ping answers 200 without a token; other routes need the sandbox token', async () => {
    const ping = await fetch(`${c.url}/ping`);
    assert.equal(ping.status, 200);
    // Generated clients (openapi-fetch in the OpenSandbox SDKs) parse a body unless told it is empty.
    assert.equal(ping.headers.get('content-length'), '0');
    const none = await execdFetch({ url: c.url }, '/metrics');
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'UNAUTHORIZED');
    const wrong = await execdFetch({ url: c.url, token: 'nope' }, '/metrics');
    assert.equal(wrong.status, 401);
    // envd's header carries the same token, so a proxy that adds it reaches execd too.
    const envdHeader = await execdFetch({ url: c.url }, '/metrics', { headers: { 'x-access-token': g.accessToken } });
    assert.equal(envdHeader.status, 200);
  });

  test('the envd port does not serve execd routes', async () => {
    assert.equal((await fetch(`${g.url}/ping`)).status, 404);
  });
});

describe('POST /command', () => {
  test('foreground: init, one event per line without its newline, execution_complete', async () => {
    const r = await streamEvents(c, '/command', { command: 'echo "Hello OpenSandbox E2E"; printf "a\\n\\nb"; echo oops >&2' });
    assert.equal(r.status, 200);
    assert.match(r.contentType ?? '', /^text\/event-stream/);
    assert.equal(r.events[0]!.type, 'init');
    assert.match(r.events[0]!.text!, /^[0-9a-f]{32}$/);
    assert.deepEqual(texts(r.events, 'stdout'), ['Hello OpenSandbox E2E', 'a', '\n', 'b']);
    assert.deepEqual(texts(r.events, 'stderr'), ['oops']);
    const last = r.events.at(-1)!;
    assert.equal(last.type, 'execution_complete');
    assert.equal(typeof last.execution_time, 'number');
    assert.ok(r.events.every((e) => typeof e.timestamp === 'number'));
  });

  test('a non-zero exit is an error event with the exit code, and no execution_complete', async () => {
    const r = await streamEvents(c, '/command', { command: 'exit 7' });
    const last = r.events.at(-1)!;
    assert.equal(last.type, 'error');
    assert.equal(last.error!.ename, 'CommandExecError');
    assert.equal(last.error!.evalue, '7');
    assert.equal(r.events.filter((e) => e.type === 'execution_complete').length, 0);
  });

  test('cwd, envs, uid and the sandbox-wide environment', async () => {
    const dir = join(g.dir, 'work');
    mkdirSync(dir, { recursive: true });
    const r = await streamEvents(c, '/command', { command: 'pwd; echo $MINE $SANDBOX_WIDE; id -u', cwd: dir, envs: { MINE: 'mine' }, uid: 65534 });
    assert.deepEqual(texts(r.events, 'stdout'), [dir, 'mine yes', '65534']);
  });

  test('the sandbox env file (EXECD_ENVS): what is appended reaches later commands and sessions; a request\'s envs win', async () => {
    const first = await streamEvents(c, '/command', { command: 'echo "$EXECD_ENVS"; echo "FROMFILE=yes" >> "$EXECD_ENVS"; echo "SHADOWED=file" >> "$EXECD_ENVS"' });
    assert.deepEqual(texts(first.events, 'stdout'), [envFile]);
    const later = await streamEvents(c, '/command', { command: 'echo $FROMFILE $SHADOWED', envs: { SHADOWED: 'request' } });
    assert.deepEqual(texts(later.events, 'stdout'), ['yes request']);
    const { session_id: id } = await (await execdFetch(c, '/session', { body: {} })).json() as { session_id: string };
    assert.deepEqual(texts((await streamEvents(c, `/session/${id}/run`, { command: 'echo $FROMFILE' })).events, 'stdout'), ['yes']);
  });

  test('timeout kills the process group: error with exit -1', async () => {
    const r = await streamEvents(c, '/command', { command: 'echo started; sleep 30', timeout: 300 });
    assert.deepEqual(texts(r.events, 'stdout'), ['started']);
    assert.equal(r.events.at(-1)!.type, 'error');
    assert.equal(r.events.at(-1)!.error!.evalue, '-1');
  });

  test('bad input: 400 INVALID_REQUEST_BODY, gid without uid, a cwd that does not exist', async () => {
    for (const [body, pattern] of [
      [{}, /command/],
      [{ command: 'true', timeout: 0 }, /timeout/],
      [{ command: 'true', gid: 5 }, /gid requires uid/],
      [{ command: 'true', cwd: '/no/such/dir' }, /not an existing directory/],
    ] as const) {
      const res = await execdFetch(c, '/command', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = await res.json() as { code: string; message: string };
      assert.equal(err.code, 'INVALID_REQUEST_BODY');
      assert.match(err.message, pattern);
    }
    const notJson = await execdFetch(c, '/command', { raw: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { code: string }).code, 'INVALID_REQUEST_BODY');
  });
});

describe('background commands', () => {
  test('init then execution_complete at once; status and logs follow the command to its end', async () => {
    const r = await streamEvents(c, '/command', { command: 'echo one; echo two >&2; sleep 0.5; echo three; exit 3', background: true });
    assert.deepEqual(r.events.map((e) => e.type), ['init', 'execution_complete']);
    const id = r.events[0]!.text!;
    const running = await (await execdFetch(c, `/command/status/${id}`)).json() as Record<string, unknown>;
    assert.equal(running.id, id);
    assert.equal(running.content, 'echo one; echo two >&2; sleep 0.5; echo three; exit 3');
    assert.equal(typeof running.started_at, 'string');
    const done = await waitFor('the background command to end', async () => {
      const s = await (await execdFetch(c, `/command/status/${id}`)).json() as Record<string, unknown>;
      return s.running === false ? s : undefined;
    });
    assert.equal(done.exit_code, 3);
    assert.equal(typeof done.finished_at, 'string');
    const logs = await execdFetch(c, `/command/${id}/logs`);
    const all = await logs.text();
    assert.equal(all.split('\n').filter(Boolean).sort().join(','), 'one,three,two');
    const cursor = logs.headers.get(EXECD_TAIL_CURSOR_HEADER);
    assert.equal(cursor, String(Buffer.byteLength(all)));
    const tail = await execdFetch(c, `/command/${id}/logs?cursor=${cursor}`);
    assert.equal(await tail.text(), '');
    assert.equal(tail.headers.get(EXECD_TAIL_CURSOR_HEADER), cursor);
  });

  test('DELETE /command?id= interrupts a running command', async () => {
    const r = await streamEvents(c, '/command', { command: 'sleep 60', background: true });
    const id = r.events[0]!.text!;
    const interrupted = await execdFetch(c, `/command?id=${id}`, { method: 'DELETE' });
    assert.equal(interrupted.status, 200);
    assert.equal(interrupted.headers.get('content-length'), '0');
    const s = await waitFor('the interrupted command to end', async () => {
      const st = await (await execdFetch(c, `/command/status/${id}`)).json() as Record<string, unknown>;
      return st.running === false ? st : undefined;
    });
    assert.equal(s.exit_code, -1);
  });

  test('an interrupt without id is 400 MISSING_QUERY; unknown ids are 404', async () => {
    const missing = await execdFetch(c, '/command', { method: 'DELETE' });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { code: string }).code, 'MISSING_QUERY');
    for (const path of ['/command/status/nope', '/command/nope/logs']) {
      const res = await execdFetch(c, path);
      assert.equal(res.status, 404, path);
      assert.match(((await res.json()) as { message: string }).message, /nope/);
    }
    const badCursor = await streamEvents(c, '/command', { command: 'true', background: true });
    const res = await execdFetch(c, `/command/${badCursor.events[0]!.text}/logs?cursor=-1`);
    assert.equal(res.status, 400);
  });
});

describe('bash sessions', () => {
  test('cwd and variables persist between runs; exit codes and stderr per run', async () => {
    const created = await execdFetch(c, '/session', { body: { cwd: g.dir } });
    assert.equal(created.status, 200);
    const { session_id: id } = await created.json() as { session_id: string };
    const run = (body: unknown) => streamEvents(c, `/session/${id}/run`, body);
    await run({ command: 'mkdir -p sub && cd sub && export KEEP=kept' });
    const second = await run({ command: 'pwd; echo $KEEP; echo warn >&2; printf tail' });
    assert.equal(second.events[0]!.type, 'init');
    assert.deepEqual(texts(second.events, 'stdout'), [join(g.dir, 'sub'), 'kept', 'tail']);
    assert.deepEqual(texts(second.events, 'stderr'), ['warn']);
    assert.equal(second.events.at(-1)!.type, 'execution_complete');
    const failed = await run({ command: 'false' });
    assert.equal(failed.events.at(-1)!.error!.evalue, '1');
    const cwd = await run({ command: 'pwd', cwd: '/' });
    assert.deepEqual(texts(cwd.events, 'stdout'), ['/']);
    assert.equal((await execdFetch(c, `/session/${id}`, { method: 'DELETE' })).status, 200);
    const gone = await execdFetch(c, `/session/${id}/run`, { body: { command: 'true' } });
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { code: string }).code, 'RUNTIME_ERROR');
  });

  test('concurrent runs in one session are serialised', async () => {
    const { session_id: id } = await (await execdFetch(c, '/session', { body: {} })).json() as { session_id: string };
    const [a, b] = await Promise.all([
      streamEvents(c, `/session/${id}/run`, { command: 'sleep 0.3; echo first' }),
      streamEvents(c, `/session/${id}/run`, { command: 'echo second' }),
    ]);
    assert.deepEqual(texts(a.events, 'stdout'), ['first']);
    assert.deepEqual(texts(b.events, 'stdout'), ['second']);
    await execdFetch(c, `/session/${id}`, { method: 'DELETE' });
  });

  test('a timed-out run ends its session', async () => {
    const { session_id: id } = await (await execdFetch(c, '/session', { body: {} })).json() as { session_id: string };
    const r = await streamEvents(c, `/session/${id}/run`, { command: 'sleep 30', timeout: 300 });
    assert.equal(r.events.at(-1)!.type, 'error');
    const after = await waitFor('the session to be gone', async () => (await execdFetch(c, `/session/${id}/run`, { body: { command: 'true' } })).status === 404 || undefined);
    assert.equal(after, true);
  });
});

describe('metrics', () => {
  test('/metrics is one sample; /metrics/watch streams samples', async () => {
    const m = await (await execdFetch(c, '/metrics')).json() as Record<string, number>;
    assert.deepEqual(Object.keys(m).sort(), ['cpu_count', 'cpu_used_pct', 'mem_total_mib', 'mem_used_mib', 'timestamp']);
    assert.ok(m.cpu_count! >= 1 && m.mem_total_mib! > 0);
    const abort = new AbortController();
    const res = await fetch(`${c.url}/metrics/watch`, { headers: { 'x-execd-access-token': g.accessToken }, signal: abort.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (text.split('\n').length < 3) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const samples = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { timestamp: number });
    assert.ok(samples.length >= 2);
    assert.ok(samples[1]!.timestamp > samples[0]!.timestamp);
  });

  test('an unknown route is 404 in execd\'s shape', async () => {
    const res = await execdFetch(c, '/nope');
    assert.equal(res.status, 404);
    const body = await res.json() as { code: string; message: string };
    assert.equal(typeof body.code, 'string');
    assert.match(body.message, /no route GET \/nope/);
  });
});

