// The one owner of the router's error wire shape: JSON {"detail": …} as upstream's router.
import type http from 'node:http';

export class RouterError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 502 | 504, message: string) {
    super(message);
    this.name = 'RouterError';
  }
}

export function writeError(res: http.ServerResponse, status: number, detail: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ detail });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
