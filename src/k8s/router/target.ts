// Which sandbox a request is for, from the X-Sandbox-* headers, validated.
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { RouterError } from './errors.ts';

export interface Target {
  id: string;
  namespace: string;
  port: number;
  podIp?: string;
  uid?: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h)?.trim() || undefined;

export function parseTarget(headers: IncomingHttpHeaders): Target {
  const id = one(headers['x-sandbox-id']);
  if (!id) throw new RouterError(400, 'X-Sandbox-ID header is required');
  if (id.length > 63 || !DNS1123_LABEL.test(id)) throw new RouterError(400, 'X-Sandbox-ID must be a DNS-1123 label');
  const namespace = one(headers['x-sandbox-namespace']) ?? 'default';
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) throw new RouterError(400, 'X-Sandbox-Namespace must be a DNS-1123 label');
  const portText = one(headers['x-sandbox-port']) ?? '8888';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new RouterError(400, 'X-Sandbox-Port must be 1-65535');
  const podIp = one(headers['x-sandbox-pod-ip']);
  if (podIp && !isIP(podIp)) throw new RouterError(400, 'X-Sandbox-Pod-IP is not an IP address');
  const uid = one(headers['x-sandbox-uid']);
  return { id, namespace, port, ...(podIp ? { podIp } : {}), ...(uid ? { uid } : {}) };
}

/** Addresses a client may never steer the router to by header (SSRF). */
export function isForbiddenHint(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 127 || a === 0 || (a === 169 && b === 254) || a >= 224;
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '::' || v6.startsWith('fe8') || v6.startsWith('fe9') || v6.startsWith('fea') || v6.startsWith('feb')
    || v6.startsWith('ff') || v6.startsWith('::ffff:127.');
}
