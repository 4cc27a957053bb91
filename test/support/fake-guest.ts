/**
 * A "guest" for security tests: a loopback HTTP server that answers every request with the
 * test's handler, which is what root in a sandbox can put on the guest's port in place of the
 * agentbox guest. Everything it sends is hostile to the server that calls it. (Tests also use it
 * for any other loopback server they need, such as the address a fake guest points elsewhere.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const MiB = 1024 ** 2;

export interface FakeGuest { url: string; close(): Promise<void> }

export async function fakeGuest(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeGuest> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Streams `total` bytes of filler in 1 MiB chunks, honouring backpressure, unless the peer leaves. */
export function flood(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(MiB, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
}
