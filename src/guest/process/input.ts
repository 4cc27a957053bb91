/** Writes one ProcessInput (stdin or PTY bytes) to a running process; shared by SendInput and StreamInput. */
import type { ProcessInput } from '../gen/process_pb.ts';
import type { ProcessHandle } from './handle.ts';

export function writeInput(handle: ProcessHandle, input: ProcessInput | undefined): void {
  const data = input?.input.value;
  // stdin and pty bytes both go to the process's input side: the PTY master for a PTY process.
  if (data && data.length > 0) handle.driver.writeStdin(data);
}
