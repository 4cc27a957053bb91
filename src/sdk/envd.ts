/**
 * A small Connect client (JSON codec) for the guest daemon, reached through the server's port
 * route `/v1/sandboxes/{id}/ports/49983/…` (the server adds the guest's token). Used for what a
 * plain request/response cannot do: background processes with stdin, PTYs.
 *
 * The methods, message types, envelope framing and end-of-stream frame are the generated stubs'
 * and @connectrpc/connect's; only the fetch is ours. Why not the library's own client: answers
 * from the server rather than the guest (an unknown sandbox, a wrong API key, a paused sandbox)
 * are agentbox's JSON errors, which that client reads by HTTP status alone on a stream
 * (404 → `unimplemented`), losing the code the server wrote.
 */
import { create, fromJson, toJson, type DescMessage, type DescMethodServerStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { codeToString, endStreamFlag, endStreamFromJson } from '@connectrpc/connect/protocol-connect';
import { encodeEnvelope, transformSplitEnvelope } from '@connectrpc/connect/protocol';
import { ERROR_CODE_OF_CONNECT, GUEST_PORT, userHeader } from '../api/envd-protocol.ts';
import { GUEST_MAX_MESSAGE_BYTES } from '../envd/errors.ts';
import { AgentboxSdkError, errorFromBody } from './errors.ts';
import type { ApiClient } from './api-client.ts';

/** An error body from the guest (Connect code) or the server (our code), as a typed SDK error. */
function envdError(status: number, body: Record<string, unknown>): AgentboxSdkError {
  return errorFromBody(status, { ...body, code: ERROR_CODE_OF_CONNECT[String(body.code)] ?? body.code });
}

const readOptions = { ignoreUnknownFields: true };

export class EnvdClient {
  constructor(private readonly api: ApiClient, private readonly sandboxId: string) {}

  private url(method: { name: string; parent: { typeName: string } }): string {
    return this.api.url(`/v1/sandboxes/${this.sandboxId}/ports/${GUEST_PORT}/${method.parent.typeName}/${method.name}`);
  }

  /** Headers: the API key as X-API-Key so Authorization stays free for the guest's user. */
  private headers(contentType: string, user?: string): Record<string, string> {
    return { 'Content-Type': contentType, 'Connect-Protocol-Version': '1', 'X-API-Key': this.api.conn.apiKey, ...userHeader(user) };
  }

  async unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, init: MessageInitShape<I>, user?: string): Promise<MessageShape<O>> {
    const body = JSON.stringify(toJson(method.input, create(method.input, init)));
    const res = await fetch(this.url(method), { method: 'POST', headers: this.headers('application/json', user), body });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw envdError(res.status, parsed);
    return fromJson(method.output, parsed as Parameters<typeof fromJson>[1], readOptions);
  }

  /** A server-streaming call: yields each message until the end-of-stream frame. */
  async *stream<I extends DescMessage, O extends DescMessage>(method: DescMethodServerStreaming<I, O>, init: MessageInitShape<I>, o: { user?: string; signal?: AbortSignal; timeoutMs?: number } = {}): AsyncGenerator<MessageShape<O>> {
    const json = new TextEncoder().encode(JSON.stringify(toJson(method.input, create(method.input, init))));
    const headers = this.headers('application/connect+json', o.user);
    if (o.timeoutMs) headers['Connect-Timeout-Ms'] = String(o.timeoutMs);
    const res = await fetch(this.url(method), { method: 'POST', headers, body: encodeEnvelope(0, json), signal: o.signal });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let parsed: Record<string, unknown> = {};
      try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { parsed = { message: text }; }
      throw envdError(res.status, parsed);
    }
    const decoder = new TextDecoder();
    for await (const frame of transformSplitEnvelope(GUEST_MAX_MESSAGE_BYTES)(res.body as unknown as AsyncIterable<Uint8Array>)) {
      if (frame.flags & endStreamFlag) {
        const { error } = endStreamFromJson(frame.data);
        if (error) throw envdError(0, { code: codeToString(error.code), message: error.rawMessage });
        return;
      }
      yield fromJson(method.output, JSON.parse(decoder.decode(frame.data)) as Parameters<typeof fromJson>[1], readOptions);
    }
    throw new AgentboxSdkError('unavailable', `${method.name} stream ended without its end frame (the sandbox may have been paused or killed)`);
  }
}
