/**
 * The DNS-aware half of the egress policy. Every sandbox's port 53 is redirected here
 * (egress.ts); the sandbox is known by its source address, which the firewall's guard keeps
 * honest. For each query:
 *
 * - a name the policy denies (a deny entry, or no allow entry under defaultAction deny) is
 *   answered NXDOMAIN here and never reaches any nameserver, so a denied name carries no
 *   data out (`secret.evil.example` under `deny: ["*.evil.example"]`);
 * - a name an allow entry matches is resolved upstream, and the A records owned by that name
 *   or its CNAME chain, minus the floor (floor.ts), are added to the sandbox's allow set
 *   before the answer goes back;
 * - anything else is forwarded (defaultAction allow).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { EgressPolicy } from '../types.ts';
import { DnsUpstream } from './dns-upstream.ts';
import { parseEgressEntry } from './egress.ts';

export type DomainVerdict = 'allow' | 'deny' | 'default';

/** `example.com` matches that name only; `*.example.com` matches every name below it. */
export function domainMatches(pattern: string, name: string): boolean {
  const n = normalName(name);
  if (pattern.startsWith('*.')) return n.endsWith(pattern.slice(1));
  return n === pattern;
}

export function domainVerdict(policy: EgressPolicy, name: string): DomainVerdict {
  const domains = (entries: string[]) =>
    entries.map(parseEgressEntry).filter((e) => e.kind === 'domain').map((e) => e.value);
  if (domains(policy.allow).some((p) => domainMatches(p, name))) return 'allow';
  if (domains(policy.deny).some((p) => domainMatches(p, name))) return 'deny';
  return 'default';
}

const normalName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/**
 * The A records of an answer that belong to `qname`: owned by it or by a name its CNAME chain
 * leads to. Other records (a hostile nameserver's extra A records for unrelated names) are
 * not the answer to this question and teach nothing.
 */
export function answerAddresses(answer: dnsPacket.Packet, qname: string): { ips: string[]; ttl: number } {
  const records = answer.answers ?? [];
  const chain = new Set([normalName(qname)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of records) {
      if (r.type !== 'CNAME' || !chain.has(normalName(r.name)) || chain.has(normalName(r.data))) continue;
      chain.add(normalName(r.data));
      grew = true;
    }
  }
  const a = records.filter((r): r is dnsPacket.StringAnswer => r.type === 'A' && chain.has(normalName(r.name)));
  return { ips: a.map((r) => r.data), ttl: Math.min(3600, ...a.map((r) => r.ttl ?? 60)) };
}

export interface DnsProxyTarget {
  policy: EgressPolicy;
  /**
   * Lets the sandbox reach `ips` (an allowed name's addresses; the target leaves out the
   * floor). False when the sandbox is over its learning rate.
   */
  learn(ips: string[], ttlSeconds: number): Promise<boolean>;
}

export interface DnsProxyOptions {
  port: number;
  /** Upstream resolver `ip` or `ip:port`. */
  upstream: string;
  /** Finds the sandbox that owns a source address; undefined = not a sandbox, ignore. */
  lookup(sourceIp: string): DnsProxyTarget | undefined;
  onError?(err: unknown): void;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;

export class DnsProxy {
  private socket?: Socket;
  private readonly upstream: DnsUpstream;

  constructor(private readonly opts: DnsProxyOptions) {
    this.upstream = new DnsUpstream(opts.upstream);
  }

  async start(): Promise<void> {
    await this.upstream.start();
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (msg, rinfo) => {
      this.handle(msg, rinfo).catch((err) => this.opts.onError?.(err));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port, '0.0.0.0', () => resolve());
    });
    this.socket = socket;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    await this.upstream.stop();
  }

  private async handle(msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const target = this.opts.lookup(rinfo.address);
    if (!target) return;
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS; nothing to answer
    }
    if (query.type !== 'query') return;
    // One question per query, or the policy would judge the first and forward the rest.
    if (query.questions?.length !== 1) return this.reply(rinfo, refusal(query, RCODE_REFUSED));
    const name = query.questions[0]!.name;
    const verdict = domainVerdict(target.policy, name);
    if (verdict === 'deny' || (verdict === 'default' && target.policy.defaultAction === 'deny')) {
      return this.reply(rinfo, refusal(query, RCODE_NXDOMAIN));
    }
    const answer = await this.upstream.query(msg);
    if (!answer) return; // no answer upstream: the client times out and retries
    if (verdict === 'allow') {
      let learnt: boolean;
      try {
        const { ips, ttl } = answerAddresses(dnsPacket.decode(answer), name);
        // Learn before replying: the sandbox connects as soon as it has the answer.
        learnt = ips.length === 0 || await target.learn(ips, ttl);
      } catch (err) {
        this.opts.onError?.(err);
        learnt = false;
      }
      if (!learnt) return this.reply(rinfo, refusal(query, RCODE_SERVFAIL));
    }
    this.reply(rinfo, answer);
  }

  private reply(rinfo: RemoteInfo, packet: Buffer): void {
    this.socket?.send(packet, rinfo.port, rinfo.address);
  }
}

function refusal(query: dnsPacket.Packet, rcode: number): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: query.questions,
    answers: [],
  });
}
