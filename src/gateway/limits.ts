/**
 * How long and how many: the timeouts and the connection cap that keep one client (or a crowd of
 * idle sockets) from holding the shared server. docs/security.md ("Shared server") lists them.
 */
import type { IncomingMessage, Server } from 'node:http';
import { JSON_BODY_TIMEOUT_MS } from './body.ts';

export interface ServerLimits {
  /** Time a client has to send a request's headers (slowloris). */
  headersTimeoutMs: number;
  /** A connection with no bytes either way for this long, and no request in progress, is closed (silent sockets, idle keep-alive); also a stalled upload. */
  idleTimeoutMs: number;
  /** Time a client has to send a JSON request body. */
  jsonBodyTimeoutMs: number;
  /** Open connections at once; more are closed on accept. */
  maxConnections: number;
  /** Proxied sandbox traffic (HTTP and WebSocket) with no bytes either way for this long is cut. */
  proxyIdleTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  jsonBodyTimeoutMs: JSON_BODY_TIMEOUT_MS,
  maxConnections: 4096,
  proxyIdleTimeoutMs: 600_000,
};

export function applyServerLimits(server: Server, l: ServerLimits): void {
  server.headersTimeout = l.headersTimeoutMs;
  // Node's requestTimeout counts until the whole body is in, which would cut a large streamed
  // upload; uploads are bounded by the idle timeout instead and JSON bodies by their own deadline.
  server.requestTimeout = 0;
  // Socket inactivity: also closes connections that never send a byte (headersTimeout starts
  // only with a request). Without a 'timeout' listener Node destroys the socket.
  server.timeout = l.idleTimeoutMs;
  server.keepAliveTimeout = Math.min(65_000, l.idleTimeoutMs);
  server.maxConnections = l.maxConnections;
}

/**
 * Sets the inactivity timeout of this request's socket: 0 lifts it while the server works on
 * the request (a cold create, a quiet exec: those bound themselves or end when the client
 * leaves); uploads and proxied traffic set their own. Node sets the keep-alive timeout again
 * when the response ends and the server's idle timeout when the next request begins.
 */
export function holdConnection(req: IncomingMessage, ms = 0): void {
  req.socket.setTimeout(ms);
}
