/**
 * Egress policy in nftables. One table per engine holds the base chains; each sandbox gets a
 * forward chain, an input chain and four address sets, reached from the base chains through
 * verdict maps keyed by the sandbox's host-side interface. An interface with no entry in the
 * maps is dropped, so a sandbox whose rules are missing fails closed.
 *
 * Rule order in a sandbox's forward chain (allow beats deny, deny beats the defaults):
 *   allow CIDRs → IPs of allowed domains → deny CIDRs → IPs of denied domains
 *   → always-denied ranges (private, loopback, link-local/metadata, multicast) → defaultAction.
 */
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import type { EgressPolicy } from '../types.ts';
import { parseCidr, type LinkAddresses } from './addresses.ts';

export interface EgressTable {
  /** nftables table name (family inet). */
  table: string;
  /** Engine subnet, for NAT. */
  subnet: string;
  /** Prefix of every host-side sandbox interface, e.g. 'abx'. */
  ifacePrefix: string;
  /** UDP/TCP port of the engine's DNS proxy on the host; the sandbox's port 53 is redirected to it. */
  dnsPort: number;
  /** Masquerade sandbox traffic leaving through other interfaces (off in tests: nothing leaves this machine). */
  nat: boolean;
}

/** Ranges a sandbox never reaches unless its allow list names them. */
export const ALWAYS_DENIED_V4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
];

export const DEFAULT_EGRESS: EgressPolicy = { defaultAction: 'allow', allow: [], deny: [] };

const DOMAIN_RE = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

export type EgressEntry = { kind: 'cidr'; value: string } | { kind: 'domain'; value: string };

/** Classifies one allow/deny entry; throws invalid_argument for anything else. */
export function parseEgressEntry(entry: string): EgressEntry {
  const e = entry.trim();
  if (/^[0-9.]+(\/\d{1,2})?$/.test(e)) {
    parseCidr(e);
    return { kind: 'cidr', value: e };
  }
  if (e.includes(':')) throw new AgentboxError('invalid_argument', `egress entry '${entry}': IPv6 is not supported; sandboxes have IPv4 only`);
  if (DOMAIN_RE.test(e)) return { kind: 'domain', value: e.toLowerCase().replace(/\.$/, '') };
  throw new AgentboxError('invalid_argument', `egress entry '${entry}' is neither an IPv4 CIDR nor a domain name (example.com, *.example.com)`);
}

export function validateEgressPolicy(policy: EgressPolicy): EgressPolicy {
  if (policy.defaultAction !== 'allow' && policy.defaultAction !== 'deny') {
    throw new AgentboxError('invalid_argument', `egress defaultAction must be 'allow' or 'deny', not '${String(policy.defaultAction)}'`);
  }
  for (const e of [...policy.allow, ...policy.deny]) parseEgressEntry(e);
  return { defaultAction: policy.defaultAction, allow: [...policy.allow], deny: [...policy.deny] };
}

const cidrsOf = (entries: string[]) =>
  entries.map(parseEgressEntry).filter((e) => e.kind === 'cidr').map((e) => e.value);

const setNames = (slot: number) => ({
  allow: `s${slot}_allow`,
  allowDns: `s${slot}_allow_dns`,
  deny: `s${slot}_deny`,
  denyDns: `s${slot}_deny_dns`,
  fwd: `s${slot}_fwd`,
  input: `s${slot}_in`,
});

export function renderBaseTable(t: EgressTable): string {
  const wildcard = `"${t.ifacePrefix}*"`;
  return [
    `add table inet ${t.table}`,
    `add set inet ${t.table} always_denied { type ipv4_addr; flags interval; elements = { ${ALWAYS_DENIED_V4.join(', ')} } }`,
    `add map inet ${t.table} fwd_chains { type ifname : verdict; }`,
    `add map inet ${t.table} in_chains { type ifname : verdict; }`,
    `add chain inet ${t.table} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain inet ${t.table} input { type filter hook input priority filter; policy accept; }`,
    `add chain inet ${t.table} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain inet ${t.table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain inet ${t.table} forward`,
    `flush chain inet ${t.table} input`,
    `flush chain inet ${t.table} prerouting`,
    `flush chain inet ${t.table} postrouting`,
    `add rule inet ${t.table} forward iifname vmap @fwd_chains`,
    `add rule inet ${t.table} forward iifname ${wildcard} drop`,
    `add rule inet ${t.table} forward oifname ${wildcard} ct state established,related accept`,
    `add rule inet ${t.table} forward oifname ${wildcard} drop`,
    `add rule inet ${t.table} input iifname vmap @in_chains`,
    `add rule inet ${t.table} input iifname ${wildcard} drop`,
    `add rule inet ${t.table} prerouting iifname ${wildcard} meta l4proto { tcp, udp } th dport 53 redirect to :${t.dnsPort}`,
    ...(t.nat ? [`add rule inet ${t.table} postrouting ip saddr ${t.subnet} oifname != ${wildcard} masquerade`] : []),
  ].join('\n') + '\n';
}

/** Sets and chains of one sandbox, replaced atomically (used at create and on every policy change). */
export function renderSandboxRules(t: EgressTable, link: LinkAddresses, policy: EgressPolicy): string {
  const n = setNames(link.slot);
  const T = `inet ${t.table}`;
  const lines = [
    `add set ${T} ${n.allow} { type ipv4_addr; flags interval; auto-merge; }`,
    `add set ${T} ${n.deny} { type ipv4_addr; flags interval; auto-merge; }`,
    `add set ${T} ${n.allowDns} { type ipv4_addr; flags timeout; }`,
    `add set ${T} ${n.denyDns} { type ipv4_addr; flags timeout; }`,
    `add chain ${T} ${n.fwd}`,
    `add chain ${T} ${n.input}`,
    `flush chain ${T} ${n.fwd}`,
    `flush chain ${T} ${n.input}`,
    `flush set ${T} ${n.allow}`,
    `flush set ${T} ${n.deny}`,
    // Domain IPs learnt under the old policy must not outlive it.
    `flush set ${T} ${n.allowDns}`,
    `flush set ${T} ${n.denyDns}`,
  ];
  const allow = cidrsOf(policy.allow);
  const deny = cidrsOf(policy.deny);
  if (allow.length) lines.push(`add element ${T} ${n.allow} { ${allow.join(', ')} }`);
  if (deny.length) lines.push(`add element ${T} ${n.deny} { ${deny.join(', ')} }`);
  lines.push(
    `add rule ${T} ${n.fwd} ip daddr @${n.allow} accept`,
    `add rule ${T} ${n.fwd} ip daddr @${n.allowDns} accept`,
    `add rule ${T} ${n.fwd} ip daddr @${n.deny} drop`,
    `add rule ${T} ${n.fwd} ip daddr @${n.denyDns} drop`,
    `add rule ${T} ${n.fwd} ip daddr @always_denied drop`,
    `add rule ${T} ${n.fwd} meta nfproto ipv6 drop`,
    `add rule ${T} ${n.fwd} ${policy.defaultAction === 'allow' ? 'accept' : 'drop'}`,
    `add rule ${T} ${n.input} ct state established,related accept`,
    `add rule ${T} ${n.input} meta l4proto { tcp, udp } th dport ${t.dnsPort} accept`,
    `add rule ${T} ${n.input} ip daddr @${n.allow} accept`,
    `add rule ${T} ${n.input} drop`,
  );
  return lines.join('\n') + '\n';
}

function renderAttach(t: EgressTable, link: LinkAddresses): string {
  const n = setNames(link.slot);
  return `add element inet ${t.table} fwd_chains { "${link.hostIface}" : jump ${n.fwd} }\n` +
    `add element inet ${t.table} in_chains { "${link.hostIface}" : jump ${n.input} }\n`;
}

function renderDetach(t: EgressTable, link: LinkAddresses): string {
  const n = setNames(link.slot);
  const T = `inet ${t.table}`;
  return [
    `delete element ${T} fwd_chains { "${link.hostIface}" }`,
    `delete element ${T} in_chains { "${link.hostIface}" }`,
    `delete chain ${T} ${n.fwd}`,
    `delete chain ${T} ${n.input}`,
    `delete set ${T} ${n.allow}`,
    `delete set ${T} ${n.deny}`,
    `delete set ${T} ${n.allowDns}`,
    `delete set ${T} ${n.denyDns}`,
  ].join('\n') + '\n';
}

const nft = (script: string) => runCommand('nft', ['-f', '-'], { input: script });

export class EgressFirewall {
  constructor(readonly table: EgressTable) {}

  async init(): Promise<void> {
    await nft(renderBaseTable(this.table));
  }

  /**
   * Installs or replaces a sandbox's rules and hooks them into the base chains, in one atomic
   * transaction. Re-adding an identical verdict-map element is a no-op in nftables, so the
   * same script serves a new sandbox, a policy change and a re-adoption.
   */
  async apply(link: LinkAddresses, policy: EgressPolicy): Promise<void> {
    await nft(renderSandboxRules(this.table, link, policy) + renderAttach(this.table, link));
  }

  async remove(link: LinkAddresses): Promise<void> {
    // Each statement alone so that a half-removed sandbox (crash in between) is still cleaned up.
    for (const line of renderDetach(this.table, link).trim().split('\n')) {
      await nft(line + '\n').catch(() => undefined);
    }
  }

  /** Adds IPs a DNS answer gave for an allowed (or denied) domain, for `ttlSeconds`. */
  async learn(link: LinkAddresses, verdict: 'allow' | 'deny', ips: string[], ttlSeconds: number): Promise<void> {
    if (ips.length === 0) return;
    const n = setNames(link.slot);
    const set = verdict === 'allow' ? n.allowDns : n.denyDns;
    const ttl = Math.max(30, Math.min(ttlSeconds, 86_400));
    await nft(`add element inet ${this.table.table} ${set} { ${ips.map((ip) => `${ip} timeout ${ttl}s`).join(', ')} }\n`);
  }

  async destroyTable(): Promise<void> {
    await nft(`delete table inet ${this.table.table}\n`).catch(() => undefined);
  }
}
