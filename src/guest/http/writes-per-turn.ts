/**
 * How the guest's HTTP servers (envd's, server.ts; execd's, execd/listen.ts) send a stream: what
 * a response writes in one turn of the event loop leaves in one write to its socket.
 *
 * Why: under gVisor every write to a socket is a trip into the sentry and through its network
 * stack, and it costs by the call more than by the byte. A command's output comes as 32 KiB frames
 * (envd's size, docs/e2b.md), two per 64 KiB pipe read and several reads per turn; Node corks a
 * response's socket only until the next tick, so each frame went out in a writev of its own:
 * 2,048 of them for 64 MiB, the largest single cost of streaming output (BENCHMARKS.md, twenty-fifth
 * round). Held until the turn's check phase, the frames of a turn leave together. Nothing waits
 * longer than that turn: a turn with writes pending does not block in its poll phase.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * Room for a turn's frames: a response may hold this much unsent before its writer waits for
 * 'drain'. At Node's 16 KiB every 32 KiB frame waited for its own write, so nothing could gather.
 * Node applies it to a request's body too: an upload is read up to this far ahead of its writes.
 */
const STREAM_HIGH_WATER_BYTES = 1 << 20;

/** Corks `res`'s socket at its first write of a turn and uncorks it once, when the turn is done. */
function gatherWritesPerTurn(res: ServerResponse): void {
  const write = res.write;
  let corked = false;
  res.write = function writeInTurn(this: ServerResponse, ...args: Parameters<ServerResponse['write']>): boolean {
    const socket = res.socket;
    if (!corked && socket) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write.apply(this, args as Parameters<typeof write>);
  } as ServerResponse['write'];
}

/**
 * An HTTP server whose responses gather their writes per turn, with room for a turn's frames: the
 * two go together (gathering at Node's 16 KiB high-water mark made a stream slower than doing
 * neither: 1.35-1.59 s against 1.03-1.26 s for 64 MiB in a probe). Requests have no timeout,
 * as streams and uploads may run for hours; idle connections close after `keepAliveTimeoutMs`.
 */
export function createStreamingServer(keepAliveTimeoutMs: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer({ highWaterMark: STREAM_HIGH_WATER_BYTES, keepAliveTimeout: keepAliveTimeoutMs, requestTimeout: 0 }, (req, res) => {
    gatherWritesPerTurn(res);
    handler(req, res);
  });
}
