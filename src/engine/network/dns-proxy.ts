/**
 * The DNS-aware half of the egress policy. Every sandbox's port 53 is redirected here
 * (egress.ts); the sandbox is known by the source address. A name that an allow entry
 * matches is resolved upstream and the A records it yields are added to the sandbox's allow
 * set for their TTL; a name a deny entry matches is answered NXDOMAIN and its addresses go to
 * the deny set; anything else is forwarded when the policy's
 * default is allow and refused with NXDOMAIN when it is deny.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { EgressPolicy } from '../types.ts';
import { parseEgressEntry } from './egress.ts';

export type DomainVerdict = 'allow' | 'deny' | 'default';

/** `example.com` matches that name only; `*.example.com` matches every name below it. */
export function domainMatches(pattern: string, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
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

export interface DnsProxyTarget {
  policy: EgressPolicy;
  learn(verdict: 'allow' | 'deny', ips: string[], ttlSeconds: number): Promise<void>;
}

export interface DnsProxyOptions {
  port: number;
  /** Upstream resolver `ip` or `ip:port`. */
  upstream: string;
  /** Finds the sandbox that owns a source address; undefined = not a sandbox, ignore. */
  lookup(sourceIp: string): DnsProxyTarget | undefined;
  onError?(err: unknown): void;
}

const UPSTREAM_TIMEOUT_MS = 3000;

export class DnsProxy {
  private socket?: Socket;

  constructor(private readonly opts: DnsProxyOptions) {}

  async start(): Promise<void> {
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
    const name = query.questions?.[0]?.name ?? '';
    const verdict = domainVerdict(target.policy, name);
    if (verdict === 'default' && target.policy.defaultAction === 'deny') return this.reply(rinfo, nxdomain(query));
    const answer = await this.forward(msg);
    if (verdict !== 'default' && answer) {
      // Denied names are resolved too, so their addresses stay blocked if the sandbox learns
      // them another way (a hard-coded IP, DNS over HTTPS).
      const a = (dnsPacket.decode(answer).answers ?? []).filter((r): r is dnsPacket.StringAnswer => r.type === 'A');
      const ttl = Math.min(...a.map((r) => r.ttl ?? 60), 3600);
      // Learn before replying: the sandbox connects as soon as it has the answer.
      await target.learn(verdict, a.map((r) => r.data), ttl);
    }
    if (verdict === 'deny') return this.reply(rinfo, nxdomain(query));
    if (answer) this.reply(rinfo, answer);
  }

  private reply(rinfo: RemoteInfo, packet: Buffer): void {
    this.socket?.send(packet, rinfo.port, rinfo.address);
  }

  private forward(msg: Buffer): Promise<Buffer | undefined> {
    const [host, port] = this.opts.upstream.split(':');
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      const done = (b?: Buffer) => {
        clearTimeout(timer);
        s.close();
        resolve(b);
      };
      const timer = setTimeout(() => done(undefined), UPSTREAM_TIMEOUT_MS);
      s.on('message', (b) => done(b));
      s.on('error', () => done(undefined));
      s.send(msg, Number(port ?? 53), host!);
    });
  }
}

function nxdomain(query: dnsPacket.Packet): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 3 /* rcode NXDOMAIN */,
    questions: query.questions,
    answers: [],
  });
}
