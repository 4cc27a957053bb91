// The operator's client of the node agents (src/k8s/node/server.ts): one agent per gVisor node,
// reached at the node's InternalIP on the agent's port (a hostNetwork DaemonSet), with the token
// shared through a Secret. With `tls` it speaks HTTPS and trusts only the agents' certificate
// (the same Secret's tls.crt), checked against one name, not the node's address: every agent
// serves that one certificate.
import { checkServerIdentity } from 'node:tls';
import { Agent, fetch, type Response } from 'undici';
import { AgentboxError, type ErrorCode } from '../../api/errors.ts';
import type { KubeObject } from '../../api/k8s/types.ts';
import {
  CheckpointResponse, restoreGrantPath, RestoreResponse, RUNTIME_PATH, RuntimeState, snapshotPath,
  type CheckpointRequest, type RestoreRequest, type RuntimeInstallRequest,
} from '../../api/k8s/node-agent.ts';
import { NODES, type KubeClient } from '../client.ts';

/** The name the node agents' certificate is issued to (its subjectAltName). */
export const NODE_AGENT_TLS_NAME = 'agentbox-node-agent';

export interface NodeAgents {
  checkpoint(node: string, req: CheckpointRequest): Promise<CheckpointResponse>;
  prepareRestore(node: string, req: RestoreRequest): Promise<RestoreResponse>;
  deleteSnapshot(node: string, namespace: string, snapshotId: string): Promise<void>;
  /** The pod restored from the snapshot runs: its grant goes (the snapshot stays). */
  revokeRestore(node: string, namespace: string, snapshotId: string, pod: string): Promise<void>;
  /** Makes the node run the runsc of a SandboxConfig (src/k8s/runtime/). */
  installRuntime(node: string, req: RuntimeInstallRequest): Promise<RuntimeState>;
}

export interface HttpNodeAgentsOptions {
  token: string;
  /** The base URL of the agent on a node (e.g. `http://10.0.0.5:7421`). */
  urlOf: (node: string) => Promise<string>;
  /** A checkpoint writes the sandbox's memory to disk: seconds per GiB. */
  timeoutMs?: number;
  /** HTTPS, trusting `ca` (PEM) for a certificate issued to `serverName` (default NODE_AGENT_TLS_NAME). */
  tls?: { ca: string; serverName?: string };
}

type Node = KubeObject & { status?: { addresses?: { type: string; address: string }[] } };

/** The agent of a node at its InternalIP (needs `get` on nodes); `https` when the agents serve TLS. */
export function agentAtNodeIP(client: KubeClient, port: number, scheme: 'http' | 'https' = 'http'): (node: string) => Promise<string> {
  return async (name) => {
    const ip = (await client.get<Node>(NODES, undefined, name)).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!ip) throw new AgentboxError('unavailable', `node ${name} has no InternalIP to reach its node agent at`);
    return `${scheme}://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  };
}

export class HttpNodeAgents implements NodeAgents {
  private readonly dispatcher?: Agent;

  constructor(private readonly o: HttpNodeAgentsOptions) {
    if (o.tls) {
      const name = o.tls.serverName ?? NODE_AGENT_TLS_NAME;
      this.dispatcher = new Agent({ connect: { ca: o.tls.ca, servername: name, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) } });
    }
  }

  /** Closes the connections kept to the agents. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  async checkpoint(node: string, req: CheckpointRequest): Promise<CheckpointResponse> {
    return CheckpointResponse.parse(await this.call(node, 'POST', '/v1/checkpoints', req));
  }

  async prepareRestore(node: string, req: RestoreRequest): Promise<RestoreResponse> {
    return RestoreResponse.parse(await this.call(node, 'POST', '/v1/restores', req));
  }

  async deleteSnapshot(node: string, namespace: string, snapshotId: string): Promise<void> {
    await this.call(node, 'DELETE', snapshotPath(namespace, snapshotId));
  }

  async revokeRestore(node: string, namespace: string, snapshotId: string, pod: string): Promise<void> {
    await this.call(node, 'DELETE', restoreGrantPath(namespace, snapshotId, pod));
  }

  async installRuntime(node: string, req: RuntimeInstallRequest): Promise<RuntimeState> {
    return RuntimeState.parse(await this.call(node, 'PUT', RUNTIME_PATH, req));
  }

  private async call(node: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${await this.o.urlOf(node)}${path}`;
    if (this.dispatcher && !url.startsWith('https://')) throw new AgentboxError('internal', `node agent URL ${url} is not https although TLS is configured`);
    let res: Response;
    try {
      res = await fetch(url, {
        method, signal: AbortSignal.timeout(this.o.timeoutMs ?? 300_000), ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        headers: { Authorization: `Bearer ${this.o.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause;
      throw new AgentboxError('unavailable', `the node agent of ${node} (${url}) is unreachable: ${(e as Error).message}${cause ? ` (${cause.message})` : ''}`);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    if (res.ok) return JSON.parse(text);
    const err = (() => { try { return JSON.parse(text) as { code?: ErrorCode; message?: string; details?: Record<string, unknown> }; } catch { return {}; } })();
    throw new AgentboxError(err.code ?? 'internal', `node agent of ${node}: ${err.message ?? `HTTP ${res.status}: ${text.slice(0, 200)}`}`, { details: err.details });
  }
}
