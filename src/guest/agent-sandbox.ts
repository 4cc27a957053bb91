/**
 * Starts the agent-sandbox in-pod runtime protocol (written by the Kubernetes side in
 * ./agent-sandbox-runtime/) only when the config asks for it. The import is lazy so ordinary
 * sandboxes never load that code; esbuild still bundles it into guest-code.js as a separate chunk
 * of the same file, so it works from /opt/agentbox too.
 */
import type { GuestConfig } from './config.ts';
import type { GuestLog } from './log.ts';

export async function startAgentSandboxRuntimeIfConfigured(config: GuestConfig, log: GuestLog): Promise<void> {
  const port = config.agentSandboxRuntimePort;
  if (port === undefined) return;
  const { startAgentSandboxRuntime } = await import('./agent-sandbox-runtime/index.ts');
  await startAgentSandboxRuntime({ port, host: config.host });
  log.info('agent-sandbox runtime listening', { port });
}
