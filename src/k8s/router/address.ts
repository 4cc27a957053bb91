// IP addresses as the router compares and refuses them. A client-supplied address is first put
// in one canonical form, so `::ffff:169.254.169.254`, `0:0:0:0:0:ffff:a9fe:a9fe`, `::a9fe:a9fe`
// (IPv4-compatible) and `64:ff9b::a9fe:a9fe` (NAT64) are all the IPv4 address they embed, and
// only then matched against pod IPs or the reserved ranges.
import { BlockList, isIP } from 'node:net';

function v6Bytes(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (isIP(dotted[1]!) !== 4) return null;
    tail.push(...dotted[1]!.split('.').map(Number));
    text = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 255);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : null;
}

const zeros = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/**
 * The canonical text of an IP address: IPv4 dotted quad, or IPv6 in RFC 5952 form; IPv6 forms that
 * embed an IPv4 address (mapped, compatible, NAT64 well-known prefix) become that IPv4 address.
 * Null when `ip` is not an IP address.
 */
export function canonicalIp(ip: string): string | null {
  const kind = isIP(ip.split('%')[0]!);
  if (kind === 4) return ip.split('.').map(Number).join('.');
  if (kind !== 6) return null;
  const b = v6Bytes(ip);
  if (!b) return null;
  const mapped = zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff;
  const compatible = zeros(b, 0, 12) && !zeros(b, 12, 15); // not :: or ::1
  const nat64 = b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12);
  if (mapped || compatible || nat64) return b.slice(12).join('.');
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952: the longest run (of two or more) of zero words becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** Never a sandbox: metadata services, link-local, unspecified, multicast, reserved. */
const NEVER = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['169.254.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ['100.100.100.200', 32], ['168.63.129.16', 32]] as const) NEVER.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['fe80::', 10], ['ff00::', 8], ['fd00:ec2::254', 128]] as const) NEVER.addSubnet(net, bits, 'ipv6');

/** Cluster-internal or host-local: acceptable only as the address of a known sandbox pod. */
const INTERNAL = new BlockList();
for (const [net, bits] of [['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15]] as const) INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['fc00::', 7]] as const) INTERNAL.addSubnet(net, bits, 'ipv6');

const family = (ip: string) => (isIP(ip) === 4 ? 'ipv4' : 'ipv6');

/** `canonical` (from canonicalIp) is a metadata, link-local, multicast or unspecified address. */
export const isNeverSandbox = (canonical: string) => NEVER.check(canonical, family(canonical));
/** `canonical` is loopback, private (RFC 1918), CGNAT or ULA. */
export const isInternal = (canonical: string) => INTERNAL.check(canonical, family(canonical));
