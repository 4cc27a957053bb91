/**
 * execd sends process output one line per event, without its line ending (`\n`, `\r\n` or `\r`);
 * an empty line is sent as "\n" so it is not an empty event, and a last line without an ending
 * is sent when the stream is flushed. OpenSandbox's end-to-end tests read `stdout[0].text`
 * as the first line, so chunking by bytes would break them.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    // A trailing \r may be the first half of \r\n: keep it until the next chunk says.
    const parts = text.split(/\r\n|\n|\r(?!$)/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.emit(line === '' ? '\n' : line);
  }

  flush(): void {
    const rest = (this.partial + this.decoder.decode()).replace(/\r$/, '');
    this.partial = '';
    if (rest !== '') this.emit(rest);
  }
}
