// The egress floor on Kubernetes: the destinations no sandbox reaches on one machine whatever its
// allow-list (src/api/egress-floor.ts) are cut out of every NetworkPolicy egress rule the
// operator writes. NetworkPolicy can only allow, so the floor cannot be a deny rule beneath the
// template's: each ipBlock instead excepts the floor ranges inside it, an ipBlock inside the floor
// is dropped, and a rule with no `to` (any destination) becomes "any global address". Peers chosen
// by pod or namespace selector are explicit in-cluster destinations and stay, as the DNS rule does.
import { isIP } from 'node:net';
import { FLOOR_V4, FLOOR_V6, FLOOR_V6_IN_GLOBAL, GLOBAL_V6 } from '../../api/egress-floor.ts';

interface IpBlock { cidr: string; except?: string[] }
interface Peer { ipBlock?: IpBlock; [selector: string]: unknown }
export interface EgressRule { to?: Peer[]; ports?: unknown[] }

interface Cidr { bits: 32 | 128; base: bigint; prefix: number }

function addressToBigInt(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  // IPv6: a trailing dotted IPv4 is two groups; '::' stands for as many zero groups as are missing.
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  const text = v4Tail ? ip.slice(0, -v4Tail.length) + ((addressToBigInt(v4Tail) >> 16n).toString(16) + ':' + (addressToBigInt(v4Tail) & 0xffffn).toString(16)) : ip;
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function parseCidr(cidr: string): Cidr | null {
  const [ip = '', len] = cidr.split('/');
  const family = isIP(ip);
  if (!family) return null;
  const bits = family === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return null;
  const host = BigInt(bits - prefix);
  return { bits, base: (addressToBigInt(ip) >> host) << host, prefix };
}

/** Whether `inner` lies within `outer` (CIDRs of one family are nested or disjoint). */
const within = (inner: Cidr, outer: Cidr) =>
  inner.bits === outer.bits && inner.prefix >= outer.prefix && inner.base >> BigInt(outer.bits - outer.prefix) === outer.base >> BigInt(outer.bits - outer.prefix);

const FLOOR = [...FLOOR_V4, ...FLOOR_V6].map((c) => ({ text: c, cidr: parseCidr(c)! }));

/** Every global address: what a rule without `to` may reach beneath the floor. */
export const GLOBAL_PEERS: Peer[] = [
  { ipBlock: { cidr: '0.0.0.0/0', except: [...FLOOR_V4] } },
  { ipBlock: { cidr: GLOBAL_V6, except: [...FLOOR_V6_IN_GLOBAL] } },
];

/** An ipBlock with the floor cut out of it, or null when the floor covers all of it. */
function flooredBlock(block: IpBlock): IpBlock | null {
  const cidr = parseCidr(block.cidr);
  // The API server has validated the CIDR; one it accepted that we cannot read is left out, not let through.
  if (!cidr || FLOOR.some((f) => within(cidr, f.cidr))) return null;
  const except = block.except ?? [];
  const parsedExcept = except.map(parseCidr).filter((c): c is Cidr => c !== null);
  const inside = FLOOR.filter((f) => within(f.cidr, cidr) && !parsedExcept.some((e) => within(f.cidr, e))).map((f) => f.text);
  // An empty except is left out, as the API server stores it: the policy then compares equal to its stored self.
  return inside.length ? { ...block, except: [...except, ...inside] } : block;
}

/** A template's egress rules with the floor cut out of them; rules left with no destination are dropped. */
export function withEgressFloor(egress: EgressRule[]): EgressRule[] {
  return egress.flatMap((rule) => {
    if (!rule.to?.length) return [{ ...rule, to: GLOBAL_PEERS }];
    const to = rule.to.flatMap((peer) => {
      if (!peer.ipBlock) return [peer];
      const ipBlock = flooredBlock(peer.ipBlock);
      return ipBlock ? [{ ...peer, ipBlock }] : [];
    });
    return to.length ? [{ ...rule, to }] : [];
  });
}
