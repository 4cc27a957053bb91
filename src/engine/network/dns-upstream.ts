/**
 * The DNS proxy's link to its upstream resolver: one UDP socket for every query, not one per
 * query. Each forwarded query gets a fresh random id (the sandbox's own id is restored on
 * the answer), and only an answer from the upstream's address and port with a pending id and
 * the same question is taken.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

const TIMEOUT_MS = 3000;
/** Queries in flight at once; past that a query is dropped (the client retries). */
const MAX_PENDING = 4096;

interface Pending { resolve(answer: Buffer | undefined): void; question: string; timer: NodeJS.Timeout }

export class DnsUpstream {
  private socket?: Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly host: string;
  private readonly port: number;

  /** `upstream` is `ip` or `ip:port`. */
  constructor(upstream: string) {
    const [host, port] = upstream.split(':');
    this.host = host!;
    this.port = Number(port ?? 53);
  }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== this.host || rinfo.port !== this.port || msg.length < 12) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      if (!p || question(msg) !== p.question) return;
      this.settle(msg.readUInt16BE(0), msg);
    });
    socket.on('error', () => undefined); // a send error surfaces as that query's timeout
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => resolve());
    });
    this.socket = socket;
  }

  /** The upstream's answer to `query` with the query's own id, or undefined (timeout, overload). */
  query(query: Buffer): Promise<Buffer | undefined> {
    if (!this.socket || query.length < 12 || this.pending.size >= MAX_PENDING) return Promise.resolve(undefined);
    let id: number;
    do id = randomInt(0x10000); while (this.pending.has(id));
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    const originalId = query.readUInt16BE(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), TIMEOUT_MS);
      this.pending.set(id, {
        question: question(query),
        timer,
        resolve: (answer) => {
          answer?.writeUInt16BE(originalId, 0);
          resolve(answer);
        },
      });
      this.socket!.send(out, this.port, this.host);
    });
  }

  async stop(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.settle(id, undefined);
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private settle(id: number, answer: Buffer | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(answer);
  }
}

/** The first question (name, type, class) as text, case-folded (resolvers may echo 0x20-mixed case). */
function question(msg: Buffer): string {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += msg[i]! + 1;
  return msg.subarray(12, i + 5).toString('latin1').toLowerCase();
}
