/**
 * A client of execd's PTY WebSocket (GET /pty/{id}/ws, upstream `components/execd/PTY.md`) for
 * tests: records every frame by kind, writes stdin behind its 0x00 byte, sends control messages.
 */
import WebSocket from 'ws';
import { waitFor } from './wait.ts';

export interface PtyFrame { type: string; [k: string]: unknown }

export class PtyClient {
  /** The JSON (text) frames, in order. */
  readonly frames: PtyFrame[] = [];
  /** Live output by channel (0x01 stdout or terminal, 0x02 stderr in pipe mode). */
  stdout = '';
  stderr = '';
  readonly replays: { offset: number; data: string }[] = [];
  closed?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return void this.frames.push(JSON.parse(data.toString('utf8')) as PtyFrame);
      const body = data.subarray(1);
      if (data[0] === 0x01) this.stdout += body.toString('utf8');
      else if (data[0] === 0x02) this.stderr += body.toString('utf8');
      else if (data[0] === 0x03) this.replays.push({ offset: Number(body.readBigUInt64BE(0)), data: body.subarray(8).toString('utf8') });
    });
    ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; });
  }

  /** Opens the socket; resolves once it is open, or rejects with the HTTP status of a refusal. */
  static open(url: string, headers: Record<string, string>): Promise<PtyClient> {
    const ws = new WebSocket(url, { headers });
    const client = new PtyClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => reject(Object.assign(new Error(`refused with ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  type(text: string): void {
    this.ws.send(Buffer.concat([Buffer.of(0x00), Buffer.from(text)]));
  }

  control(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  frame(type: string): Promise<PtyFrame> {
    return waitFor(`a '${type}' frame`, () => this.frames.find((f) => f.type === type));
  }

  output(pattern: RegExp, channel: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    return waitFor(`${channel} matching ${pattern}`, () => this[channel].match(pattern));
  }

  closedWith(): Promise<{ code: number; reason: string }> {
    return waitFor('the socket to close', () => this.closed);
  }

  close(): void {
    this.ws.close();
  }
}
