/** Starts the real server (real SQLite, real HTTP) over the FAKE engine of fake-engine.ts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/app/server.ts';
import { FakeCatalog, FakeEngine, fakeFiles } from './fake-engine.ts';

/** fetch's Response with `json()` typed loosely, for terse assertions in tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyResponse = Omit<Response, 'json' | 'clone'> & { json(): Promise<any>; clone(): AnyResponse };
export const fetchAny = fetch as (input: string | URL, init?: RequestInit) => Promise<AnyResponse>;

export type ApiInit = RequestInit & { key?: string; json?: unknown };

/** Calls the server's API as the admin (or `key`), with `json` as the body when given. */
export function apiCaller(server: { url: string; adminKey: string }) {
  return (path: string, init: ApiInit = {}): Promise<AnyResponse> => {
    const { key, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('Authorization', `Bearer ${key ?? server.adminKey}`);
    if (json !== undefined) headers.set('Content-Type', 'application/json');
    return fetchAny(`${server.url}${path}`, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  };
}

/** A server started in the test's process, over the fake engine (here) or the real one (real-server.ts). */
export interface TestServer {
  server: RunningServer;
  home: string;
  /** fetch against the server with a key (the admin key by default). */
  api(path: string, init?: ApiInit): Promise<AnyResponse>;
  /** Closes the server, then removes what the starter made for it. */
  stop(): Promise<void>;
}

/** The TestServer of a started `server` on `home`; `cleanup` runs after it closes. */
export function testServer(server: RunningServer, home: string, cleanup: () => Promise<void> | void): TestServer {
  return {
    server, home,
    api: apiCaller(server),
    async stop() {
      await server.close();
      await cleanup();
    },
  };
}

export interface FakeServer extends TestServer { engine: FakeEngine }

export async function startFakeServer(opts: Partial<ServerOptions> & { startDelayMs?: number; home?: string } = {}): Promise<FakeServer> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'agentbox-test-'));
  const engine = new FakeEngine({ root: join(home, 'engine'), startDelayMs: opts.startDelayMs ?? 0 });
  const server = await startServer({
    home, port: 0, engine, catalog: new FakeCatalog(), files: fakeFiles(engine), defaultRuntime: 'runc',
    log: () => {}, lifecycleMaxSleepMs: 100, poolRetryMs: 200, ...opts,
  });
  return { ...testServer(server, home, () => { if (!opts.home) rmSync(home, { recursive: true, force: true }); }), engine };
}
