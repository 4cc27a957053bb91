/**
 * The "app inside a sandbox" of the proxy tests, run on 127.0.0.1: HTTP answers with what it
 * received (method, url, body, and one header under `field`, to prove what the proxy strips),
 * WebSocket echoes each message as `echo:<message>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface EchoApp {
  port: number;
  close(): void;
}

export async function startEchoApp(field: string, header: string): Promise<EchoApp> {
  const app = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body, [field]: req.headers[header] ?? null })));
  });
  new WebSocketServer({ server: app }).on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  return {
    port: (app.address() as AddressInfo).port,
    close() {
      app.closeAllConnections();
      app.close();
    },
  };
}
