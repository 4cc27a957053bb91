/**
 * Server figures through the HTTP API on the real engine (runc + busybox), each beside the
 * runtime-level figure from the same run:
 * - warm claim p50/p99 (pool hit) vs. an HTTP round trip to /healthz (the API's floor);
 * - cold create p50 through the API vs. engine.run directly;
 * - sandboxes created per second (4 concurrent clients) vs. engine.run at the same concurrency;
 * - exec round trip (`true`) through the API vs. engine.exec directly;
 * - a 64 MiB file's upload and download through the API vs. the sandbox's guest directly, and
 *   through the SDK vs. the API with a plain fetch.
 */
import { randomBytes } from 'node:crypto';
import { cannotRun, percentileRow, timeMany, type BenchSuite } from './harness.ts';
import { guestFilesRoute, sdkFilesRoute, timeFileTransfers } from './file-transfer.ts';
import { Sandbox } from '../src/sdk/index.ts';
import { startRealServer } from '../test/support/real-server.ts';

const MiB = 1024 * 1024;

const suite: BenchSuite = {
  name: 'server (HTTP API, runc + busybox)',
  async run(ctx) {
    const s = await startRealServer('bench', { wideSubnet: true });
    if (typeof s === 'string') cannotRun('server', s);
    const engine = s.created.engine;
    const post = (path: string, json: unknown) => s.api(path, { method: 'POST', json }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    });
    const made: string[] = [];
    try {
      await s.created.templates.ensure('busybox');
      await engine.run({ template: 'busybox', runtime: 'runc' }).then((x) => engine.destroy(x.id)); // warms caches
      const health = await timeMany(50, () => fetch(`${s.server.url}/healthz`).then((r) => r.arrayBuffer()));

      // Warm claims: a pool larger than the sample, so every claim is a hit.
      const N = 30;
      await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: N } });
      for (let i = 0; i < 1200; i++) {
        if ((await (await s.api('/v1/pools/busybox')).json()).ready >= N) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // The pool refills in the background while claims run, as it does in production.
      const claims = await timeMany(N, async () => {
        const sb = await post('/v1/sandboxes', { template: 'busybox' });
        if (!sb.fromPool) throw new Error('claim missed the pool');
        made.push(sb.id);
      });
      await s.api('/v1/pools/busybox', { method: 'DELETE' });
      const healthz = { name: 'GET /healthz', samples: health };
      ctx.report(percentileRow('warm claim (API)', claims, 50, 'ms', healthz, '< 15 ms'));
      ctx.report(percentileRow('warm claim (API)', claims, 99, 'ms', healthz));

      // Cold creates (no pool), sequential.
      const COLD = 8;
      const coldApi = await timeMany(COLD, async () => { made.push((await post('/v1/sandboxes', { template: 'busybox', runtime: 'runc' })).id); });
      const coldEngine = await timeMany(COLD, async () => { made.push((await engine.run({ template: 'busybox', runtime: 'runc' })).id); });
      ctx.report(percentileRow('cold create (API)', coldApi, 50, 'ms', { name: 'engine.run', samples: coldEngine }));

      // Throughput: 4 clients × 4 creates each.
      const rate = async (one: () => Promise<string>) => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < 4; i++) made.push(await one()); }));
        return 16 / ((performance.now() - t0) / 1000);
      };
      const apiRate = await rate(async () => (await post('/v1/sandboxes', { template: 'busybox', runtime: 'runc' })).id);
      const engineRate = await rate(async () => (await engine.run({ template: 'busybox', runtime: 'runc' })).id);
      ctx.report({ name: 'sandboxes created per second (API, 4 clients × 4 creates)', value: apiRate, n: 16, unit: '/s', computed: '16 ÷ the burst\'s wall-clock time', baseline: { name: 'engine.run, 4 concurrent × 4', value: engineRate } });

      // Exec round trip of `true`.
      const target = made[0]!;
      await post(`/v1/sandboxes/${target}/exec`, { cmd: ['true'] });
      const execApi = await timeMany(50, () => post(`/v1/sandboxes/${target}/exec`, { cmd: ['true'] }));
      const execEngine = await timeMany(50, () => engine.exec(target, { cmd: ['true'] }));
      ctx.report(percentileRow('exec round trip (API, runc)', execApi, 50, 'ms', { name: 'engine.exec', samples: execEngine }, '< 15 ms'));

      // A large file each way through the API, beside the same through the sandbox's guest directly:
      // what the server adds to a transfer.
      const large = randomBytes(64 * MiB);
      const path = '/home/user/bench-large.bin';
      const apiFiles = `/v1/sandboxes/${target}/files?path=${encodeURIComponent(path)}`;
      const viaApi = await timeFileTransfers(5, large, {
        upload: (body) => s.api(apiFiles, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body }),
        download: () => s.api(apiFiles),
      });
      const direct = await timeFileTransfers(5, large, guestFilesRoute(engine.get(target).guest, path));
      ctx.report(percentileRow('64 MiB file upload (API, runc)', viaApi.up, 50, 'ms', { name: 'the guest\'s /files directly', samples: direct.up }));
      ctx.report(percentileRow('64 MiB file download (API, runc)', viaApi.down, 50, 'ms', { name: 'the guest\'s /files directly', samples: direct.down }));
      // The SDK streams every transfer and watches it for stalls: what that costs over a plain fetch.
      const sbx = await Sandbox.connect(target, { apiUrl: s.server.url, apiKey: s.server.adminKey });
      const viaSdk = await timeFileTransfers(5, large, sdkFilesRoute(sbx.files, path));
      ctx.report(percentileRow('64 MiB file upload (SDK files.write, runc)', viaSdk.up, 50, 'ms', { name: 'the API with fetch', samples: viaApi.up }));
      ctx.report(percentileRow('64 MiB file download (SDK files.read, runc)', viaSdk.down, 50, 'ms', { name: 'the API with fetch', samples: viaApi.down }));
    } finally {
      for (const id of made) await engine.destroy(id).catch(() => undefined);
      await s.stop();
    }
  },
};
export default suite;
