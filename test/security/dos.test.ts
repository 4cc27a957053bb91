// test-file-timeout: 40 min
// H4: one sandbox must not be able to run the shared server out of memory. Every byte from the
// guest is hostile: a real server (in this process, so process.memoryUsage() is the server's)
// on the real engine (runc, the busybox template) takes gigabytes of `yes` through buffered exec
// and through NDJSON with a reader that stops reading, and streams a 2 GiB sparse file, with its
// resident memory bounded; fake guests (local HTTP servers this test runs) announce a 4 GiB
// Connect frame, send huge error bodies and huge JSON, and are refused.
// The output volume is 1 GB by default (several times the RSS bound, so a server that buffered
// it fails) and AGENTBOX_DOS_OUTPUT_BYTES=3000000000 runs the 3 GB: on a shared 2-core
// machine exec output moves at a few MB/s, and 3 GB takes most of an hour.
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createGuestClient } from '../../src/envd/client.ts';
import { createEnvdFiles } from '../../src/server/guest-files.ts';
import { fakeGuest, flood } from '../support/fake-guest.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const OUTPUT_BYTES = Number(process.env.AGENTBOX_DOS_OUTPUT_BYTES ?? 1000 ** 3);
/** What the server may add to its resident memory while the output passes through it. Generous:
 * the point is "bounded", not a tight figure; without the caps it grows by the whole output. */
const RSS_BOUND = 512 * MiB;
/** Where a producer nobody reads must have stopped: measured stalls were 90-215 MiB of a GB on a loaded machine,
 * and 415-488 MiB while other gVisor sandboxes and Kubernetes tests ran beside it (the buffers named in the test
 * grow with the load); a server that did not wait for the reader lets all of the GB through, or trips the RSS bound. */
const HELD_BACK_WITHIN = 800 * MiB;

/** Samples this process's RSS (the in-process server's) and fails fast once it passes the bound. */
function rssWatch(): { max(): number; stop(): void; over: Promise<never> } {
  const base = process.memoryUsage().rss;
  let max = 0;
  let fail: (e: Error) => void = () => {};
  const over = new Promise<never>((_, reject) => { fail = reject; });
  over.catch(() => undefined);
  const timer = setInterval(() => {
    const grown = process.memoryUsage().rss - base;
    max = Math.max(max, grown);
    if (grown > RSS_BOUND) fail(new Error(`server RSS grew by ${Math.round(grown / MiB)} MiB (bound ${RSS_BOUND / MiB} MiB)`));
  }, 50);
  return { max: () => max, stop: () => clearInterval(timer), over };
}

/** Between two /healthz polls: often enough to see a server that stops answering, without a
 * back-to-back loop that takes the CPU from the flood it runs beside (both share this process). */
const POLL_GAP_MS = 50;

/** /healthz answers while `work` runs; every poll must succeed. */
async function healthzDuring<T>(s: RealServer, work: Promise<T>): Promise<{ result: T; polls: number }> {
  let done = false;
  let polls = 0;
  const poller = (async () => {
    while (!done) {
      const res = await fetch(`${s.server.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      polls++;
      await new Promise((r) => setTimeout(r, POLL_GAP_MS));
    }
  })();
  try {
    const result = await work;
    return { result, polls };
  } finally {
    done = true;
    await poller;
  }
}

let s: RealServer | undefined;
let skip: string | false = false;
let id = '';

before(async () => {
  const r = await startRealServer('sec-dos', { maxDownloadBytes: 3 * GiB });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  const res = await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', timeoutSeconds: 7200 } });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  id = body.id;
});
after(async () => { await s?.stop(); });

const exec = (cmd: string, init: { ndjson?: boolean } = {}) => s!.api(`/v1/sandboxes/${id}/exec`, {
  method: 'POST', json: { cmd, timeoutMs: 3_600_000 }, ...(init.ndjson ? { headers: { Accept: 'application/x-ndjson' } } : {}),
});

describe('a sandbox cannot make the server hold its output', () => {
  test('a GB of yes through buffered exec: truncated at 16 MiB, RSS bounded, /healthz answers', { timeout: 3_600_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const rss = rssWatch();
    try {
      // node:http, not fetch: the answer comes only when all the output has passed, which on a
      // busy machine is later than fetch's 300 s headers timeout.
      const run = new Promise<{ exitCode: number; truncated?: boolean; stdout: string; stderr: string }>((resolve, reject) => {
        const req = request(`${s!.server.url}/v1/sandboxes/${id}/exec`, {
          method: 'POST', headers: { Authorization: `Bearer ${s!.server.adminKey}`, 'Content-Type': 'application/json' },
        }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { text += c; });
          res.on('end', () => { try { assert.equal(res.statusCode, 200, text.slice(0, 500)); resolve(JSON.parse(text)); } catch (e) { reject(e); } });
        });
        req.on('error', reject);
        req.end(JSON.stringify({ cmd: `yes | head -c ${OUTPUT_BYTES}; echo done >&2`, timeoutMs: 3_600_000 }));
      });
      const { result, polls } = await Promise.race([healthzDuring(s!, run), rss.over]);
      assert.equal(result.exitCode, 0);
      assert.equal(result.truncated, true);
      assert.equal(result.stdout.length, 16 * MiB, 'stdout holds exactly the cap');
      assert.ok(result.stdout === 'y\n'.repeat(8 * MiB), 'the kept part is the start of the output');
      assert.equal(result.stderr, 'done\n', 'a stream under the cap is whole');
      assert.ok(polls > 0);
      t.diagnostic(`max RSS growth ${Math.round(rss.max() / MiB)} MiB, /healthz answered ${polls} times`);
    } finally {
      rss.stop();
    }
  });

  test('a GB of yes through NDJSON with a reader that stops: the sandbox is held back, RSS bounded', { timeout: 3_600_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const rss = rssWatch();
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`${s!.server.url}/v1/sandboxes/${id}/exec`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${s!.server.adminKey}`, 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
        }, resolve);
        req.on('error', reject);
        req.end(JSON.stringify({ cmd: `yes | head -c ${OUTPUT_BYTES}`, timeoutMs: 3_600_000 }));
      });
      assert.equal(res.statusCode, 200);
      res.pause();
      // Nobody reads. The producer's progress is `head`'s wchar (/proc/<pid>/io): it must stop
      // well short of the whole output, because the server waits for the socket to drain before
      // it reads more from the guest (without that it buffers everything and the RSS bound trips).
      // What does pass before it stops sits in bounded buffers, most of them the kernel's: two TCP
      // hops (guest to server, server to this reader), each autotuned up to net.ipv4.tcp_rmem's
      // maximum (32 MiB here), and JSON escaping adds half again to every byte on the second hop.
      const wchar = async (): Promise<number> => {
        const r = await (await exec('cat /proc/$(pidof head)/io 2>/dev/null | grep wchar || echo "wchar: -1"')).json();
        return Number(/wchar: (-?\d+)/.exec(r.stdout)?.[1] ?? -1);
      };
      const stalled = (async () => {
        const deadline = Date.now() + 600_000;
        let last = -1;
        while (Date.now() < deadline) {
          const now = await wchar();
          if (now > 0 && now === last) return now;
          // head gone after it had started: it wrote everything, nothing held it back.
          if (now < 0 && last > 0) throw new Error(`head finished (last seen at ${last} bytes): the sandbox was never held back`);
          last = now;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`head was still writing after 10 minutes (at ${last} bytes): the sandbox was never held back`);
      })();
      const { result: heldAt, polls } = await Promise.race([healthzDuring(s!, stalled), rss.over]);
      assert.ok(heldAt < HELD_BACK_WITHIN, `the sandbox wrote ${heldAt} bytes while nobody read`);
      t.diagnostic(`stalled after ${Math.round(heldAt / MiB)} MiB; /healthz answered ${polls} times; RSS growth so far ${Math.round(rss.max() / MiB)} MiB`);

      // Now read everything: all of it arrives, then one end line.
      const readAll = (async () => {
        let bytes = 0;
        let end: { type: string; exitCode?: number } | undefined;
        let rest = '';
        res.setEncoding('utf8');
        for await (const chunk of res as AsyncIterable<string>) {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop()!;
          for (const line of lines) {
            const ev = JSON.parse(line) as { type: string; data?: string; exitCode?: number };
            if (ev.type === 'stdout') bytes += ev.data!.length;
            else end = ev;
          }
        }
        return { bytes, end };
      })();
      const { bytes, end } = await Promise.race([readAll, rss.over]);
      assert.equal(bytes, OUTPUT_BYTES);
      assert.deepEqual(end, { type: 'end', exitCode: 0 });
      t.diagnostic(`max RSS growth ${Math.round(rss.max() / MiB)} MiB`);
    } finally {
      rss.stop();
    }
  });

  test('a 2 GiB sparse file downloads as a stream with bounded memory; past the cap it is refused', { timeout: 600_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const made = await (await exec('truncate -s 2147483648 /tmp/sparse && truncate -s 4294967296 /tmp/huge && echo ok')).json();
    assert.equal(made.stdout, 'ok\n');
    const rss = rssWatch();
    try {
      const download = (async () => {
        const res = await s!.api(`/v1/sandboxes/${id}/files?path=/tmp/sparse`);
        assert.equal(res.status, 200);
        let bytes = 0;
        let nonZero = 0;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          if (chunk.some((b) => b !== 0)) nonZero++;
        }
        return { bytes, nonZero };
      })();
      const { result, polls } = await Promise.race([healthzDuring(s!, download), rss.over]);
      assert.deepEqual(result, { bytes: 2 * GiB, nonZero: 0 });
      t.diagnostic(`max RSS growth ${Math.round(rss.max() / MiB)} MiB, /healthz answered ${polls} times`);
    } finally {
      rss.stop();
    }
    // This server's download cap is 3 GiB: a 4 GiB file is refused before a byte is sent.
    const res = await s!.api(`/v1/sandboxes/${id}/files?path=/tmp/huge`);
    assert.equal(res.status, 429);
    const err = await res.json();
    assert.equal(err.code, 'resource_exhausted');
    assert.match(err.message, /download cap/);
  });
});

describe('a fake guest cannot make the server buffer', () => {
  const endpoint = (url: string) => ({ url, accessToken: 't', envdVersion: '0.1.0' });

  test('a Connect frame announcing 4 GiB is refused (watch and exec)', { timeout: 120_000 }, async () => {
    let sentBytes = 0;
    const g = await fakeGuest((req, res) => {
      req.resume();
      // The content type the client asked for (JSON for watch, protobuf for the process client).
      res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/connect+json' });
      const head = Buffer.alloc(5);
      head.writeUInt32BE(0xffffffff, 1);
      res.write(head);
      sentBytes += 5;
      // Then keep sending: a server that believed the length would hold all of it.
      flood(res, 256 * MiB);
    });
    const files = createEnvdFiles();
    const rss = rssWatch();
    try {
      const watched = files.watch(endpoint(g.url), '/', () => {}, new AbortController().signal);
      await assert.rejects(Promise.race([watched, rss.over]), (e: Error & { code?: string }) => e.code === 'unavailable' && /frame/.test(e.message));
      const guest = createGuestClient({ url: g.url, accessToken: 't' });
      await assert.rejects(Promise.race([guest.exec({ cmd: ['true'] }), rss.over]), (e: Error & { code?: string }) => /exceeds|limit|size/i.test(e.message));
      guest.close();
    } finally {
      rss.stop();
      files.close();
      await g.close();
    }
    assert.ok(sentBytes > 0);
  });

  test('a huge error body or JSON answer is refused, not read whole', { timeout: 120_000 }, async () => {
    const g = await fakeGuest((req, res) => {
      req.resume();
      const isRpc = req.url!.startsWith('/filesystem.Filesystem/');
      res.writeHead(isRpc ? 200 : 500, { 'Content-Type': 'application/json' });
      flood(res, 512 * MiB);
    });
    const files = createEnvdFiles();
    const rss = rssWatch();
    try {
      const read = files.read(endpoint(g.url), '/x');
      await assert.rejects(Promise.race([read, rss.over]), (e: Error & { code?: string }) => e.code === 'internal');
      await assert.rejects(Promise.race([files.list(endpoint(g.url), '/', 1), rss.over]), (e: Error & { code?: string }) => e.code === 'unavailable' && /more than/.test(e.message));
    } finally {
      rss.stop();
      files.close();
      await g.close();
    }
  });
});
