/**
 * A failed guest call as an AgentboxError: the client edge of the table in
 * src/api/envd-protocol.ts (docs/architecture.md, rule “errors are translated at the edges”). Everything a guest sends is hostile (root in a sandbox can
 * replace the daemon with anything that speaks HTTP on its port), so an answer that breaks the
 * protocol reads as `unavailable` with a message that says so, whatever code it claims.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { ERROR_CODE_OF_CONNECT } from '../api/envd-protocol.ts';
import { AgentboxError, type ErrorCode } from '../api/errors.ts';

/**
 * Largest Connect message accepted from a guest. A frame length it announces is checked before
 * anything is buffered for it (the transport's `readMaxBytes`).
 */
export const GUEST_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * What @connectrpc/connect raises itself when the answer is not the protocol: a frame past
 * `readMaxBytes`, a content type it did not ask for, a broken envelope. The guest never sends
 * these; they are the transport's words about what came over the wire.
 */
function brokenAnswer(ce: ConnectError): boolean {
  return (ce.code === Code.ResourceExhausted && /readMaxBytes/.test(ce.rawMessage))
    || /^(unsupported content type|protocol error)/.test(ce.rawMessage);
}

/**
 * `fallback` is the code of a Connect code the table leaves out (internal, unknown…): what it
 * means depends on who asked. An exec reads it as the guest being unwell (`unavailable`); a file
 * call as a failure on the guest's side of the call (`internal`).
 */
export function fromConnectError(err: unknown, what: string, fallback: ErrorCode = 'unavailable'): AgentboxError {
  if (err instanceof AgentboxError) return err;
  const ce = ConnectError.from(err);
  if (brokenAnswer(ce)) {
    return new AgentboxError('unavailable', `${what}: the sandbox's guest sent a frame of more than ${GUEST_MAX_MESSAGE_BYTES} bytes or an answer that is not Connect (${ce.rawMessage}); it is not the agentbox guest or is broken`, { cause: err });
  }
  return new AgentboxError(ERROR_CODE_OF_CONNECT[codeToString(ce.code)] ?? fallback, `${what}: ${ce.rawMessage}`, { cause: err });
}
