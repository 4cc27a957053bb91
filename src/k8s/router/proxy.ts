// Forwarding to the sandbox pod: HTTP with dial retries (3 attempts, 200 → 800 ms, only before
// the connection is made, so a request body is never replayed) and WebSocket upgrades (raw
// byte pipe, no timeout, Origin stripped).
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { requestHead } from '../../api/http-head.ts';
import { credentialHeader, ROUTER_CREDENTIAL_HEADER } from './auth.ts';
import { RouterError } from './errors.ts';
import type { Upstream } from './resolve.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const DIAL_BACKOFF_MS = [200, 400, 800];

export interface ProxyHooks { onRetry(): void }

function forwardHeaders(h: http.IncomingHttpHeaders, up: Upstream, keepUpgrade: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  // The router's credential stays here (auth.ts credentialHeader); other Authorization is the sandbox's.
  const credential = credentialHeader(h);
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k === 'host' || k === credential || k === ROUTER_CREDENTIAL_HEADER) continue;
    if (!keepUpgrade && HOP_BY_HOP.has(k)) continue;
    if (keepUpgrade && k === 'origin') continue;
    out[k] = v;
  }
  for (const [k, v] of Object.entries(up.headers ?? {})) out[k.toLowerCase()] = v;
  out.host = `${up.host.includes(':') ? `[${up.host}]` : up.host}:${up.port}`;
  return out;
}

export function proxyHttp(req: http.IncomingMessage, res: http.ServerResponse, up: Upstream, timeoutMs: number, hooks: ProxyHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (n: number) => {
      let connected = false;
      const out = http.request({ host: up.host, port: up.port, method: req.method, path: req.url, headers: forwardHeaders(req.headers, up, false), timeout: timeoutMs });
      out.on('socket', (s) => {
        const go = () => { connected = true; req.pipe(out); };
        if ((s as net.Socket).connecting) s.once('connect', go); else go();
      });
      out.on('response', (r) => {
        const headers: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
        r.on('end', () => resolve());
        r.on('error', () => { res.destroy(); resolve(); });
      });
      out.on('timeout', () => out.destroy(new RouterError(504, `upstream ${up.host}:${up.port} timed out`)));
      out.on('error', (e) => {
        if (!connected && n + 1 < DIAL_BACKOFF_MS.length && !(e instanceof RouterError)) {
          hooks.onRetry();
          setTimeout(() => attempt(n + 1), DIAL_BACKOFF_MS[n]);
          return;
        }
        reject(e instanceof RouterError ? e : new RouterError(502, `upstream ${up.host}:${up.port}: ${e.message}`));
      });
    };
    attempt(0);
  });
}

export function proxyUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, up: Upstream): void {
  const upstream = net.connect({ host: up.host, port: up.port });
  upstream.on('connect', () => {
    upstream.write(requestHead(req.method, req.url, forwardHeaders(req.headers, up, true)));
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  const close = () => { upstream.destroy(); client.destroy(); };
  upstream.on('error', () => {
    if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"detail":"upstream unavailable"}');
    close();
  });
  client.on('error', close);
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
}
