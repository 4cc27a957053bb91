// What console.ts answers from a bundle directory, without a server: the request and response
// are the two fields it reads and the calls it makes (an HTTP round trip is test/console's).
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentboxError } from '../api/errors.ts';
import { consoleFiles } from './console.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function bundle(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-console-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'assets'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

interface Answer { status?: number; headers?: Record<string, string>; body?: Buffer }

function get(files: ReturnType<typeof consoleFiles>, path: string, headers: Record<string, string> = {}): { handled: boolean; answer: Answer } {
  const answer: Answer = {};
  const res = {
    setHeader: () => {},
    writeHead: (status: number, h: Record<string, string>) => { answer.status = status; answer.headers = h; },
    end: (body?: Buffer) => { answer.body = body; },
  } as unknown as ServerResponse;
  const handled = files.http({ method: 'GET', headers } as IncomingMessage, res, path);
  return { handled, answer };
}

const codeOf = (f: () => unknown): string => {
  try { f(); } catch (e) { return e instanceof AgentboxError ? e.code : `not an AgentboxError: ${String(e)}`; }
  return 'no error';
};

test('paths outside /ui are left to the API', () => {
  const files = consoleFiles(bundle({ 'index.html': '<html>' }));
  for (const p of ['/', '/uix', '/v1/ui', '/healthz']) assert.equal(get(files, p).handled, false, p);
});

test('a missing bundle is 503 unavailable, naming the command that builds it', () => {
  const files = consoleFiles(join(tmpdir(), 'agentbox-console-never-built'));
  assert.equal(codeOf(() => get(files, '/ui/')), 'unavailable');
});

test('only names of the bundle are served; hashed assets are immutable, index.html is revalidated', () => {
  const files = consoleFiles(bundle({ 'index.html': '<html>', 'assets/app-ABC.js': 'x()', 'assets/app-ABC.css': 'a{}' }));
  const index = get(files, '/ui/').answer;
  assert.equal(index.headers!['Cache-Control'], 'no-cache');
  assert.equal(index.body!.toString(), '<html>');
  const js = get(files, '/ui/assets/app-ABC.js').answer;
  assert.equal(js.headers!['Content-Type'], 'text/javascript; charset=utf-8');
  assert.match(js.headers!['Cache-Control']!, /immutable/);
  assert.equal(get(files, '/ui/assets/app-ABC.js', { 'if-none-match': js.headers!.ETag! }).answer.status, 304);
  for (const p of ['/ui/assets/../index.html', '/ui/../package.json', '/ui/assets', '/ui/assets/other.js']) {
    assert.equal(codeOf(() => get(files, p)), 'not_found', p);
  }
});
