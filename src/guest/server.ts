/**
 * The guest's composition root (docs/architecture.md, rule “wired by hand at the root”): builds the shared context, registers both RPC
 * services and the REST endpoints on one HTTP/1.1 server, as envd does on port 49983, and
 * OpenSandbox's execd over the same process and file services on a second port (execd/listen.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { GuestConfig } from './config.ts';
import type { GuestContext } from './context.ts';
import type { GuestLog } from './log.ts';
import { createUserDb } from './users.ts';
import { guestInterceptor } from './interceptor.ts';
import { registerProcessService } from './process/service.ts';
import { ProcessRegistry } from './process/registry.ts';
import { ProcessFactory } from './process/process-factory.ts';
import type { FilesystemDeps } from './filesystem/deps.ts';
import { closeWatchers, registerFilesystemService } from './filesystem/service.ts';
import { createRestHandler } from './http/routes.ts';
import { createStreamingServer } from './http/writes-per-turn.ts';
import { listenExecd } from './execd/listen.ts';
import type { StartCommandReport } from './start-command.ts';

/** envd keeps idle connections 640 s so long-lived SDK clients reuse them. */
const IDLE_TIMEOUT_MS = 640_000;

export interface GuestServer {
  port: number;
  context: GuestContext;
  registry: ProcessRegistry;
  close(): Promise<void>;
}

export interface GuestServerOptions {
  log: GuestLog;
  /** Where passwd and group are read; the sandbox's /etc. */
  etcDir?: string;
  /** The static process factory (native/launcher.c); absent or missing = plain spawn. */
  launcherPath?: string;
  /** The start command's status, which GET /start-command reports; absent without one. */
  startCommand?: StartCommandReport;
}

/** CORS for the browser SDK, which talks to envd directly: any origin, Connect headers exposed. */
function withCors(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
        'Access-Control-Max-Age': '7200',
      }).end();
      return;
    }
    handler(req, res);
  };
}

export async function startGuestServer(config: GuestConfig, opts: GuestServerOptions): Promise<GuestServer> {
  const context: GuestContext = {
    state: {
      accessToken: config.accessToken,
      envVars: { ...config.envVars },
      defaultUser: config.defaultUser,
      defaultWorkdir: config.defaultWorkdir,
    },
    users: createUserDb(opts.etcDir),
    log: opts.log,
  };
  const registry = new ProcessRegistry();
  const processFactory = opts.launcherPath ? new ProcessFactory(opts.launcherPath, opts.log) : undefined;
  const fsDeps: FilesystemDeps = { ...context, watchers: new Map() };
  const rest = createRestHandler({ ...context, processFactory }, config.initSecret, opts.startCommand);
  const handler = connectNodeAdapter({
    routes: (router) => {
      registerProcessService(router, { ...context, registry, processFactory });
      registerFilesystemService(router, fsDeps);
    },
    interceptors: [guestInterceptor(context)],
    // The server is HTTP/1.1 only, so the adapter's request types are always these.
    fallback: (req, res) => rest(req as IncomingMessage, res as ServerResponse),
  });
  const server: Server = createStreamingServer(IDLE_TIMEOUT_MS, withCors(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const execd = config.execdPort === undefined ? undefined : await listenExecd({
    port: config.execdPort, host: config.host, idleTimeoutMs: IDLE_TIMEOUT_MS,
    deps: { ...context, registry, processFactory }, codeInterpreterUrl: config.codeInterpreterUrl, envFile: config.execdEnvFile,
  });
  if (execd) opts.log.info('execd listening', { host: config.host, port: execd.port });
  opts.log.info('guest listening', { host: config.host, port });
  return {
    port,
    context,
    registry,
    close: () => new Promise<void>((resolve) => {
      closeWatchers(fsDeps);
      processFactory?.close();
      void execd?.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
