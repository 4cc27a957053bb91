/**
 * The operator's egress floor: destinations no sandbox reaches, whatever its tenant's allow
 * list says. nftables enforces it before any tenant rule (egress.ts); the DNS proxy uses the
 * same list so that an allowed name resolving into the floor teaches the firewall nothing.
 *
 * Only the operator lifts parts of it (engine option `network.allowPrivate`, env
 * `AGENTBOX_EGRESS_ALLOW_PRIVATE`), and never these two: the engine subnet (other sandboxes)
 * and the host's own addresses. The host is closed in the INPUT chain, which forwarding rules
 * cannot open; IPv6 from sandboxes is dropped whole (sandboxes are IPv4-only), which covers
 * ULA, link-local, fd00:ec2::254 and the v4-mapped forms of every range below.
 */
import { networkInterfaces } from 'node:os';
import { AgentboxError } from '../../api/errors.ts';
import { FLOOR_V4 } from '../../api/egress-floor.ts';
import { intToIp, ipToInt, parseCidr } from './addresses.ts';

/** The floor's ranges are shared with the Kubernetes operator's NetworkPolicies. */
export { FLOOR_V4 };

export type CidrMatcher = (ip: string) => boolean;

export function cidrMatcher(cidrs: readonly string[]): CidrMatcher {
  const parsed = cidrs.map(parseCidr);
  return (ip) => {
    const n = ipToInt(ip);
    return parsed.some(({ base, prefix }) => (prefix === 0 ? 0 : (n >>> (32 - prefix)) << (32 - prefix)) >>> 0 === base);
  };
}

/** Parses the operator's allow-private list (comma or whitespace separated IPv4 CIDRs). */
export function parseAllowPrivate(raw: string | readonly string[] | undefined): string[] {
  const entries = typeof raw === 'string' ? raw.split(/[\s,]+/) : [...(raw ?? [])];
  return entries.map((e) => e.trim()).filter(Boolean).map((e) => {
    try {
      const { base, prefix } = parseCidr(e);
      return `${intToIp(base)}/${prefix}`;
    } catch (err) {
      throw new AgentboxError('invalid_argument', `allow-private entry '${e}' is not an IPv4 CIDR (e.g. 172.16.5.0/24)`, { cause: err });
    }
  });
}

export interface FloorOptions {
  /** Engine subnet: every sandbox and the host side of every sandbox link. Never lifted. */
  subnet: string;
  /** Floor entries the operator lifted. */
  allowPrivate: readonly string[];
}

/**
 * Whether the floor covers `ip` for a sandbox: the engine subnet, the host's current
 * addresses, and FLOOR_V4 minus what the operator lifted.
 */
export function floorCovers(opts: FloorOptions): CidrMatcher {
  const subnet = cidrMatcher([opts.subnet]);
  const floor = cidrMatcher(FLOOR_V4);
  const lifted = cidrMatcher(opts.allowPrivate);
  return (ip) => subnet(ip) || hostAddresses().has(ip) || (floor(ip) && !lifted(ip));
}

function hostAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  }
  return out;
}
