// A console bundle rebuilt under a server that serves it (scripts/build-console.mjs beside
// src/gateway/console.ts): `agentbox up` may be serving build/console/ while the console's test,
// or `npm run build:console`, writes it again. Every server that first reads the bundle during
// the rebuild must find a whole one: index.html and the assets it names.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { consoleFiles } from '../../src/gateway/console.ts';
import { buildConsole } from '../../scripts/build-console.mjs';

test('a rebuild never leaves the console unserved, nor a page naming an asset that is not there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-console-'));
  const out = join(dir, 'console');
  // Each request reads the bundle afresh, as a server's first request for the console does.
  const server = createServer((req, res) => {
    try {
      if (!consoleFiles(out).http(req, res, new URL(req.url!, 'http://x').pathname)) res.writeHead(404).end();
    } catch (err) {
      res.writeHead(503).end(String(err));
    }
  });
  try {
    await buildConsole(out);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ui/`;
    let building = true;
    const rebuilds = (async () => {
      for (let i = 0; i < 3; i++) await buildConsole(out);
      building = false;
    })();
    let checks = 0;
    while (building) {
      const page = await fetch(base);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      for (const asset of html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)) {
        const res = await fetch(base + asset[1]);
        assert.equal(res.status, 200, `${asset[1]}: ${await res.text()}`);
      }
      checks++;
    }
    await rebuilds;
    assert.ok(checks > 10, `only ${checks} checks ran during the rebuilds`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
