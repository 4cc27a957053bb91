// A server process over the FAKE engine, for crash tests: `node --import tsx fake-server-main.ts <home> [startDelayMs]`.
// Prints one JSON line {url, key} once listening. The fake engine keeps its state in <home>/engine,
// so the next process on the same home sees the same sandboxes.
import { join } from 'node:path';
import { startServer } from '../../src/app/server.ts';
import { FakeCatalog, FakeEngine, fakeFiles } from './fake-engine.ts';

const home = process.argv[2]!;
const engine = new FakeEngine({ root: join(home, 'engine'), startDelayMs: Number(process.argv[3] ?? 0) });
const server = await startServer({ home, port: 0, engine, catalog: new FakeCatalog(), files: fakeFiles(engine), defaultRuntime: 'runc', log: () => {} });
console.log(JSON.stringify({ url: server.url, key: server.adminKey, recovery: server.recovery }));
