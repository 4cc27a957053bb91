export {};
// dev harness: start a real server and print env
import { startRealServer } from '../support/real-server.ts';
const r = await startRealServer('e2bdev', { runtime: (process.env.RT as 'runc') ?? 'runc', log: (m, f) => console.error(m, JSON.stringify(f ?? {})) });
if (typeof r === 'string') { console.error(r); process.exit(1); }
console.log(JSON.stringify({ url: r.server.url, key: r.server.adminKey }));
process.on('SIGTERM', async () => { await r.stop(); process.exit(0); });
setInterval(() => {}, 1000);
