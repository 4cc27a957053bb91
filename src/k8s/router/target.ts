// Which sandbox a request is for, from the X-Sandbox-* headers, validated.
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalIp } from './address.ts';
import { RouterError } from './errors.ts';

export interface Target {
  id: string;
  namespace: string;
  port: number;
  /** Canonical form (address.ts): IPv4-embedding IPv6 forms are the IPv4 address. */
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
  const rawIp = one(headers['x-sandbox-pod-ip']);
  const podIp = rawIp === undefined ? undefined : canonicalIp(rawIp);
  if (podIp === null) throw new RouterError(400, 'X-Sandbox-Pod-IP is not an IP address');
  const uid = one(headers['x-sandbox-uid']);
  return { id, namespace, port, ...(podIp ? { podIp } : {}), ...(uid ? { uid } : {}) };
}
