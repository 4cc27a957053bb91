/**
 * Egress policy in nftables. One table per engine holds the base chains and the operator's
 * floor; each sandbox gets a forward chain and three address sets, reached from the base
 * forward chain through a verdict map keyed by the sandbox's host-side interface. An
 * interface with no entry in the map is dropped, so a sandbox whose rules are missing fails
 * closed.
 *
 * Order for a packet from a sandbox:
 *   guard (prerouting): IPv6 dropped; source must be the sandbox's own address on its own
 *     interface (no spoofing a neighbour, whom the DNS proxy knows by source address)
 *   input (to any address of the host): established replies and the DNS proxy port only
 *   forward: the floor (floor.ts: other sandboxes, private, metadata, reserved), which no
 *     tenant rule can open, then the sandbox's chain:
 *     allow CIDRs → addresses of allowed domains → deny CIDRs → defaultAction
 */
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import type { EgressPolicy } from '../types.ts';
import { parseCidr, type LinkAddresses } from './addresses.ts';
import { FLOOR_V4, floorCovers, type CidrMatcher } from './floor.ts';
import { AddressLearner, type LearnBatch } from './learner.ts';

export interface EgressTable {
  /** nftables table name (family inet). */
  table: string;
  /** Engine subnet: every sandbox link. Never reachable from a sandbox. */
  subnet: string;
  /** Prefix of every host-side sandbox interface, e.g. 'abx'. */
  ifacePrefix: string;
  /** UDP/TCP port of the engine's DNS proxy on the host; the sandbox's port 53 is redirected to it. */
  dnsPort: number;
  /** Masquerade sandbox traffic leaving through other interfaces (off in tests: nothing leaves this machine). */
  nat: boolean;
  /** Floor entries the operator lifted (floor.ts). */
  allowPrivate: string[];
  /**
   * Uplinks on which agentbox itself turned IPv4 forwarding on (netns.ts): traffic arriving
   * there is forwarded only to sandboxes, so the host does not become a router for its LAN.
   */
  openedUplinks?: string[];
}

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
  fwd: `s${slot}_fwd`,
});

const elements = (list: readonly string[]) => (list.length ? ` elements = { ${list.join(', ')} }` : '');

/**
 * The base table, re-created in one transaction (leftovers of an older layout go with it).
 * Sandboxes have no rules until `apply` re-adds them, and fail closed meanwhile.
 */
export function renderBaseTable(t: EgressTable): string {
  const W = `"${t.ifacePrefix}*"`;
  const T = `inet ${t.table}`;
  const uplinks = t.openedUplinks ?? [];
  return [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T}`,
    `add set ${T} floor { type ipv4_addr; flags interval; auto-merge;${elements(FLOOR_V4)} }`,
    `add set ${T} floor_lifted { type ipv4_addr; flags interval; auto-merge;${elements(t.allowPrivate)} }`,
    `add set ${T} sources { type ifname . ipv4_addr; }`,
    `add map ${T} fwd_chains { type ifname : verdict; }`,
    `add chain ${T} guard { type filter hook prerouting priority raw; policy accept; }`,
    `add chain ${T} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${T} input { type filter hook input priority filter; policy accept; }`,
    `add chain ${T} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${T} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    // Counted, so an operator (and the tests) can see forged traffic being dropped.
    `add rule ${T} guard iifname ${W} meta nfproto ipv6 counter drop`,
    `add rule ${T} guard iifname ${W} iifname . ip saddr != @sources counter drop`,
    // The floor, before any tenant rule.
    `add rule ${T} forward iifname ${W} oifname ${W} drop`,
    `add rule ${T} forward iifname ${W} ip daddr ${t.subnet} drop`,
    `add rule ${T} forward iifname ${W} ip daddr @floor ip daddr != @floor_lifted drop`,
    `add rule ${T} forward iifname vmap @fwd_chains`,
    `add rule ${T} forward iifname ${W} drop`,
    `add rule ${T} forward oifname ${W} ct state established,related accept`,
    `add rule ${T} forward oifname ${W} drop`,
    ...uplinks.map((dev) => `add rule ${T} forward iifname "${dev}" drop`),
    // The host: no tenant list reaches it.
    `add rule ${T} input iifname ${W} ct state established,related accept`,
    `add rule ${T} input iifname ${W} meta l4proto { tcp, udp } th dport ${t.dnsPort} accept`,
    `add rule ${T} input iifname ${W} drop`,
    `add rule ${T} prerouting iifname ${W} meta l4proto { tcp, udp } th dport 53 redirect to :${t.dnsPort}`,
    ...(t.nat ? [`add rule ${T} postrouting ip saddr ${t.subnet} oifname != ${W} masquerade`] : []),
  ].join('\n') + '\n';
}

/** Sets and chain of one sandbox, replaced atomically (used at create and on every policy change). */
export function renderSandboxRules(t: EgressTable, link: LinkAddresses, policy: EgressPolicy): string {
  const n = setNames(link.slot);
  const T = `inet ${t.table}`;
  const lines = [
    `add set ${T} ${n.allow} { type ipv4_addr; flags interval; auto-merge; }`,
    `add set ${T} ${n.deny} { type ipv4_addr; flags interval; auto-merge; }`,
    `add set ${T} ${n.allowDns} { type ipv4_addr; }`,
    `add chain ${T} ${n.fwd}`,
    `flush chain ${T} ${n.fwd}`,
    `flush set ${T} ${n.allow}`,
    `flush set ${T} ${n.deny}`,
    // Domain IPs learnt under the old policy must not outlive it.
    `flush set ${T} ${n.allowDns}`,
  ];
  const allow = cidrsOf(policy.allow);
  const deny = cidrsOf(policy.deny);
  if (allow.length) lines.push(`add element ${T} ${n.allow} { ${allow.join(', ')} }`);
  if (deny.length) lines.push(`add element ${T} ${n.deny} { ${deny.join(', ')} }`);
  lines.push(
    `add rule ${T} ${n.fwd} ip daddr @${n.allow} accept`,
    `add rule ${T} ${n.fwd} ip daddr @${n.allowDns} accept`,
    `add rule ${T} ${n.fwd} ip daddr @${n.deny} drop`,
    `add rule ${T} ${n.fwd} ${policy.defaultAction === 'allow' ? 'accept' : 'drop'}`,
    `add element ${T} fwd_chains { "${link.hostIface}" : jump ${n.fwd} }`,
    `add element ${T} sources { "${link.hostIface}" . ${link.sandboxIp} }`,
  );
  return lines.join('\n') + '\n';
}

function renderDetach(t: EgressTable, link: LinkAddresses): string[] {
  const n = setNames(link.slot);
  const T = `inet ${t.table}`;
  return [
    `delete element ${T} fwd_chains { "${link.hostIface}" }`,
    `delete element ${T} sources { "${link.hostIface}" . ${link.sandboxIp} }`,
    `delete chain ${T} ${n.fwd}`,
    `delete set ${T} ${n.allow}`,
    `delete set ${T} ${n.deny}`,
    `delete set ${T} ${n.allowDns}`,
  ];
}

/**
 * Learnt addresses in one transaction. A removal is written as add-then-delete, which
 * succeeds whether or not the element is still there.
 */
function renderLearnt(t: EgressTable, batch: LearnBatch): string {
  const T = `inet ${t.table}`;
  const lines: string[] = [];
  for (const [set, ips] of batch.add) if (ips.length) lines.push(`add element ${T} ${set} { ${ips.join(', ')} }`);
  for (const [set, ips] of batch.remove) {
    if (ips.length) lines.push(`add element ${T} ${set} { ${ips.join(', ')} }`, `delete element ${T} ${set} { ${ips.join(', ')} }`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

const nft = (script: string) => runCommand('nft', ['-f', '-'], { input: script });

export class EgressFirewall {
  private readonly learner = new AddressLearner((batch) => this.writeLearnt(batch));
  /** Whether the floor covers an address (DNS answers into the floor teach nothing). */
  readonly floor: CidrMatcher;

  constructor(readonly table: EgressTable) {
    this.floor = floorCovers({ subnet: table.subnet, allowPrivate: table.allowPrivate });
  }

  async init(openedUplinks: string[] = []): Promise<void> {
    await nft(renderBaseTable({ ...this.table, openedUplinks }));
  }

  /**
   * Installs or replaces a sandbox's rules and hooks them into the base chains, in one atomic
   * transaction. Re-adding an identical map or set element is a no-op in nftables, so the
   * same script serves a new sandbox, a policy change and a re-adoption.
   */
  async apply(link: LinkAddresses, policy: EgressPolicy): Promise<void> {
    await nft(renderSandboxRules(this.table, link, policy));
    this.learner.forget(setNames(link.slot).allowDns);
  }

  async remove(link: LinkAddresses): Promise<void> {
    this.learner.forget(setNames(link.slot).allowDns);
    // Each statement alone so that a half-removed sandbox (crash in between) is still cleaned up.
    for (const line of renderDetach(this.table, link)) {
      await nft(line + '\n').catch(() => undefined);
    }
  }

  /**
   * Lets the sandbox reach addresses a DNS answer gave for an allowed domain, for
   * `ttlSeconds`; addresses in the floor are left out. False when the sandbox is over its
   * learning rate (learner.ts).
   */
  async learn(link: LinkAddresses, ips: string[], ttlSeconds: number): Promise<boolean> {
    const open = ips.filter((ip) => !this.floor(ip));
    if (open.length === 0) return true;
    return this.learner.learn(setNames(link.slot).allowDns, open, ttlSeconds);
  }

  /** Addresses currently learnt for a sandbox. */
  learnt(link: LinkAddresses): number {
    return this.learner.size(setNames(link.slot).allowDns);
  }

  stop(): void {
    this.learner.stop();
  }

  async destroyTable(): Promise<void> {
    await nft(`delete table inet ${this.table.table}\n`).catch(() => undefined);
  }

  private async writeLearnt(batch: LearnBatch): Promise<void> {
    const script = renderLearnt(this.table, batch);
    if (!script) return;
    try {
      await nft(script);
    } catch (err) {
      // A set that went away meanwhile (sandbox removed) fails the whole transaction: write
      // the others alone.
      const sets = new Set([...batch.add.keys(), ...batch.remove.keys()]);
      if (sets.size < 2) throw err;
      let written = 0;
      for (const set of sets) {
        const one = { add: pick(batch.add, set), remove: pick(batch.remove, set) };
        written += await nft(renderLearnt(this.table, one)).then(() => 1, () => 0);
      }
      if (written === 0) throw err;
    }
  }
}

const pick = (m: Map<string, string[]>, key: string) => new Map(m.has(key) ? [[key, m.get(key)!]] : []);
