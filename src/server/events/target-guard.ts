/**
 * Where a webhook may POST. A webhook URL is tenant input, and the server POSTs from the host's
 * network: without a guard a tenant could make it reach loopback services, the private network
 * or a cloud metadata endpoint (SSRF). Refused by default: every address that is not global
 * (the egress floor's IPv4 ranges, engine/network/floor.ts, and every IPv6 address outside
 * global unicast 2000::/3, which covers ::1, ULA, link-local and IPv4-mapped forms). The address
 * is checked at connect time (`lookup`), so a name that resolves elsewhere on a second lookup
 * (DNS rebinding) is checked on the address actually used; redirects are never followed.
 * An admin lifts the guard for a server whose receivers are private (tests use loopback).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { AgentboxError } from '../../api/errors.ts';
import { cidrMatcher, FLOOR_V4 } from '../../engine/network/floor.ts';

const inFloorV4 = cidrMatcher(FLOOR_V4);

/** Whether `ip` is an address a webhook may reach while private targets are refused. */
export function isPublicAddress(ip: string): boolean {
  const kind = isIP(ip);
  if (kind === 4) return !inFloorV4(ip);
  if (kind !== 6) return false;
  const first = parseInt(ip.split(':')[0] || '0', 16);
  // 2000::/3 is the global unicast space; 2001:db8::/32 is documentation only.
  return (first & 0xe000) === 0x2000 && !ip.toLowerCase().startsWith('2001:db8:');
}

export const privateTargetError = (host: string, ip: string) =>
  new AgentboxError('permission_denied', `webhook target ${host} (${ip}) is a loopback, private, link-local or metadata address; an admin can allow such targets with AGENTBOX_WEBHOOK_ALLOW_PRIVATE=1`);

/** Refuses a URL the server would never POST to, whatever it resolves to. */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AgentboxError('invalid_argument', `webhook url must be http or https, not ${url.protocol}`);
  if (url.username || url.password) throw new AgentboxError('invalid_argument', 'webhook url must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) throw privateTargetError(host, host);
  return url;
}

/** A `lookup` for http.request that refuses private addresses (unless allowed). */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: LookupOneOptions | LookupAllOptions, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(privateTargetError(hostname, bad.address), '');
      if ((options as LookupAllOptions).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new AgentboxError('unavailable', `${hostname} has no address`), '');
      callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}
