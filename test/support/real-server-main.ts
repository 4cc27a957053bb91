// A server process over the REAL engine, for SIGKILL tests:
// `node --import tsx real-server-main.ts <home> <netIndex> [runc|gvisor]` prints one JSON line
// {url, key, recovery} once listening. The same home on the next start re-adopts the engine's
// sandboxes. The runtime (runc by default) is the engine's and the server's default.
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { engineCatalog } from '../../src/server/engine-catalog.ts';
import { startServer } from '../../src/server/index.ts';
import { testNetwork } from './test-network.ts';

const [home, n, runtime] = [process.argv[2]!, Number(process.argv[3]), (process.argv[4] ?? 'runc') as 'runc' | 'gvisor'];
// A gVisor guest boots slower than a runc one on a loaded 2-core machine.
const readyTimeoutMs = runtime === 'gvisor' ? 30_000 : 20_000;
const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: runtime, readyTimeoutMs, network: testNetwork(n) });
const server = await startServer({ home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates), defaultRuntime: runtime, log: () => {} });
console.log(JSON.stringify({ url: server.url, key: server.adminKey, recovery: server.recovery }));
