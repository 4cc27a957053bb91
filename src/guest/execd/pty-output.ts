/**
 * A PTY session's output history for replay (`GET /pty/{id}/ws?since=<offset>`, upstream
 * `components/execd/PTY.md`). Offsets count every byte the session ever produced; only the last
 * `capacity` bytes are kept (PTY_REPLAY_BYTES, 1 MiB: a few thousand screens of terminal output,
 * bounded so a chatty process cannot grow guest memory), so a client asking for older bytes gets
 * what is left, starting at the offset the replay frame names.
 */
export const PTY_REPLAY_BYTES = 1024 * 1024;

export class PtyOutput {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Offset just past the last byte produced (upstream's `output_offset`). */
  end = 0;

  constructor(private readonly capacity = PTY_REPLAY_BYTES) {}

  append(data: Uint8Array): void {
    const chunk = Buffer.from(data);
    this.chunks.push(chunk);
    this.kept += chunk.length;
    this.end += chunk.length;
    while (this.kept > this.capacity) {
      const first = this.chunks[0]!;
      const excess = this.kept - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
      }
    }
  }

  /** Offset of the oldest byte still kept. */
  get start(): number {
    return this.end - this.kept;
  }

  /** The kept bytes from `since` on, and the offset they start at (later than `since` if those bytes were dropped). */
  since(since: number): { offset: number; data: Buffer } {
    const offset = Math.min(Math.max(since, this.start), this.end);
    return { offset, data: Buffer.concat(this.chunks).subarray(offset - this.start) };
  }
}
