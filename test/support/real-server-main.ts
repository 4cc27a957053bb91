// A server process over the REAL engine, for SIGKILL tests:
// `node --import tsx real-server-main.ts <home> <netIndex> [runc|gvisor]` prints one JSON line
// {url, key, recovery} once listening. The same home on the next start re-adopts the engine's
// sandboxes. The runtime (runc by default) is the engine's and the server's default.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { engineCatalog } from '../../src/server/engine-catalog.ts';
import { startServer } from '../../src/app/server.ts';
import { testNetwork } from './test-network.ts';

const [home, n, runtime] = [process.argv[2]!, Number(process.argv[3]), (process.argv[4] ?? 'runc') as 'runc' | 'gvisor'];
// Tests judge behaviour, not speed: a guest that boots slowly on a loaded 2-core machine is not a failure.
const readyTimeoutMs = 60_000;
/** Every start appends to one log in the home, which a test quotes when an invariant breaks. */
const log = (msg: string, fields?: Record<string, unknown>) => appendFileSync(join(home, 'server.log'), `${new Date().toISOString()} ${process.pid} ${msg} ${JSON.stringify(fields ?? {})}\n`);
const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: runtime, readyTimeoutMs, network: testNetwork(n), log });
const server = await startServer({ home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates, created.engine), defaultRuntime: runtime, log });
console.log(JSON.stringify({ url: server.url, key: server.adminKey, recovery: server.recovery }));
