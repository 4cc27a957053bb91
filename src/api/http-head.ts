/**
 * The head of an HTTP/1.1 request as bytes on the wire, for the two reverse proxies that replay
 * an Upgrade request to their target over a raw socket (src/gateway/proxy.ts,
 * src/k8s/router/proxy.ts) before splicing the two sockets.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export function requestHead(method: string | undefined, path: string | undefined, headers: IncomingHttpHeaders | OutgoingHttpHeaders): string {
  let text = `${method ?? 'GET'} ${path ?? '/'} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
  }
  return `${text}\r\n`;
}
