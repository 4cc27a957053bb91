// A server process over the REAL engine, for SIGKILL tests:
// `node --import tsx real-server-main.ts <home> <netIndex>` prints one JSON line {url, key, recovery}
// once listening. The same home on the next start re-adopts the engine's sandboxes.
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { engineCatalog } from '../../src/server/engine-catalog.ts';
import { startServer } from '../../src/app/server.ts';
import { testNetwork } from './test-network.ts';

const [home, n] = [process.argv[2]!, Number(process.argv[3])];
const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'runc', readyTimeoutMs: 20_000, network: testNetwork(n) });
const server = await startServer({ home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates), defaultRuntime: 'runc', log: () => {} });
console.log(JSON.stringify({ url: server.url, key: server.adminKey, recovery: server.recovery }));
