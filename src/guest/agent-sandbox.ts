/**
 * Starts the agent-sandbox in-pod runtime protocol (written by the Kubernetes side in
 * ./agent-sandbox-runtime/) only when the config asks for it, so ordinary sandboxes never load it.
 */
import type { GuestConfig } from './config.ts';
import type { GuestLog } from './log.ts';

interface AgentSandboxRuntimeModule {
  startAgentSandboxRuntime(opts: { port: number; host?: string }): Promise<{ close(): Promise<void> }>;
}

// Not a literal import while ./agent-sandbox-runtime/ does not exist yet: tsc and esbuild would
// refuse the missing file. Under tsx this resolves; in guest.mjs it needs the literal form.
const RUNTIME_MODULE = './agent-sandbox-runtime/index.ts';

export async function startAgentSandboxRuntimeIfConfigured(config: GuestConfig, log: GuestLog): Promise<void> {
  const port = config.agentSandboxRuntimePort;
  if (port === undefined) return;
  const mod = (await import(RUNTIME_MODULE)) as AgentSandboxRuntimeModule;
  await mod.startAgentSandboxRuntime({ port, host: config.host });
  log.info('agent-sandbox runtime listening', { port });
}
