/**
 * File transfers of any size: bodies stream both ways instead of being held whole, and the
 * deadline is on a stall, not on the whole transfer (a file of gigabytes at disk speed outlasts
 * any fixed request timeout, while a transfer where nothing moves should still fail).
 */
import { AgentboxSdkError, InvalidArgumentError, TimeoutError, UnavailableError } from './errors.ts';

/** What `files.write` takes. Node's readable streams are async iterables of Buffers. */
export type UploadData = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Upload chunks are cut to this size so progress is seen while one large buffer is sent. */
const SLICE_BYTES = 1 << 20;

/** Aborts its signal once no byte has moved for `ms` (0: never). */
export class StallTimer {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  // A body may still be pulled after its request failed; that must not arm the timer again.
  private stopped = false;

  constructor(private readonly ms: number, private readonly what: string) { this.moved(); }

  get signal(): AbortSignal { return this.abort.signal; }

  moved(): void {
    if (!this.ms || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort.abort(new TimeoutError('deadline_exceeded', `${this.what}: no byte moved for ${this.ms} ms: raise requestTimeoutMs`)), this.ms);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * `body` as it flows, each chunk counted as progress; `atEnd` runs when it is read to its end.
   * A failed or cancelled stream stops the timer, so nothing waits on it afterwards; a broken
   * connection fails it as `unavailable`, like any other error of the SDK.
   */
  watch(body: ReadableStream<Uint8Array>, atEnd: () => void): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      pull: async (out) => {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          this.stop();
          throw (err instanceof AgentboxSdkError || (err as Error).name === 'AbortError') ? err
            : new UnavailableError('unavailable', `${this.what}: the transfer broke off: ${(err as Error).message}`, { cause: err });
        }
        if (next.done) { atEnd(); out.close(); return; }
        this.moved();
        out.enqueue(next.value);
      },
      cancel: (reason) => { this.stop(); return reader.cancel(reason); },
    });
  }
}

/** `data` as a stream of byte chunks of at most SLICE_BYTES, whatever form it came in. */
export function uploadStream(data: UploadData): ReadableStream<Uint8Array> {
  const source: ReadableStream<unknown> =
    typeof data === 'string' ? ReadableStream.from([new TextEncoder().encode(data)])
    : data instanceof Uint8Array ? ReadableStream.from([data])
    : data instanceof Blob ? data.stream()
    : data instanceof ReadableStream ? data
    : ReadableStream.from(data);
  return source.pipeThrough(new TransformStream<unknown, Uint8Array>({
    transform(chunk, out) {
      if (!(chunk instanceof Uint8Array)) throw new InvalidArgumentError('invalid_argument', `a file's content must stream as bytes (Uint8Array or Buffer), got ${typeof chunk}: read the source without an encoding`);
      for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) out.enqueue(chunk.subarray(at, at + SLICE_BYTES));
    },
  }));
}

/** All of `body`, for callers that want the file whole. */
export async function collect(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}
