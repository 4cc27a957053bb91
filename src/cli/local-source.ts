/** A host file the CLI sends to the server, streamed, with the usage errors a person can act on. */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UsageError } from './io.ts';

/** `what` names the file in errors ("image archive", "file"). */
export async function localSource(path: string, what: string): Promise<ReadStream> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${what} ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  if (st.isDirectory()) throw new UsageError(`${what} ${path} is a directory; only one file is sent (pack a tree with tar first)`);
  return createReadStream(path);
}
