// A server process over the REAL engine under gVisor, for the crash-chaos test:
// `node --import tsx chaos-server-main.ts <home> <netIndex>` prints one JSON line
// {url, key, recovery} once listening. The next start over the same home recovers.
import { join } from 'node:path';
import { createEngine } from '../../src/engine/index.ts';
import { engineCatalog } from '../../src/server/engine-catalog.ts';
import { startServer } from '../../src/app/server.ts';
import { testNetwork } from '../support/test-network.ts';

const [home, n] = [process.argv[2]!, Number(process.argv[3])];
const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'gvisor', readyTimeoutMs: 30_000, network: testNetwork(n) });
const server = await startServer({ home, port: 0, engine: created.engine, catalog: engineCatalog(created.templates), defaultRuntime: 'gvisor', log: () => {} });
console.log(JSON.stringify({ url: server.url, key: server.adminKey, recovery: server.recovery }));
