/**
 * OpenSandbox's egress sidecar API (`specs/egress-api.yaml`), which the SDKs reach on port 18080
 * of a sandbox (`getEgressPolicy`, `patchEgressRules`, `deleteEgressRules`). agentbox's egress
 * rules live in the engine's firewall outside the sandbox, which code inside must not be able to
 * change, so nothing in the sandbox serves 18080: the façade answers it from the sandbox's rules
 * (SandboxBackend.sandboxes.get / setNetwork), on the same endpoint path as every other port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { EgressDelete, EgressPatch, EgressReplace } from '../../api/opensandbox.ts';
import type { EgressPolicy, Principal, SandboxBackend } from '../../server/backend.ts';
import { parseBody } from '../request.ts';
import { sendJson } from '../respond.ts';
import { egressOf, patchRules, rulesOf, withoutTargets } from './translate.ts';

const MAX_JSON = 256 * 1024;

function policyAnswer(p: EgressPolicy) {
  // Agentbox's firewall enforces names and addresses alike: OpenSandbox calls that `dns+nft`.
  return { status: 'ok', mode: p.defaultAction === 'deny' ? 'deny_all' : 'allow_all', enforcementMode: 'dns+nft', policy: rulesOf(p) };
}

/** Serves one egress-sidecar request for sandbox `id`; `path` is what follows the port. */
export async function serveEgress(req: IncomingMessage, res: ServerResponse, backend: SandboxBackend, principal: Principal, id: string, path: string): Promise<void> {
  const s = backend.sandboxes;
  const route = `${req.method} ${path.split('?')[0]}`;
  const current = (): EgressPolicy => s.get(principal, id).egress ?? { defaultAction: 'allow', allow: [], deny: [] };
  const set = async (next: EgressPolicy) => { await s.setNetwork(principal, id, next); };
  switch (route) {
    case 'GET /healthz':
      s.get(principal, id);
      return sendJson(res, 200, { status: 'ok' });
    case 'GET /policy':
      return sendJson(res, 200, policyAnswer(current()));
    case 'PATCH /policy':
      await set(patchRules(current(), await parseBody(req, EgressPatch, MAX_JSON)));
      return sendJson(res, 200, policyAnswer(current()));
    case 'DELETE /policy':
      await set(withoutTargets(current(), await parseBody(req, EgressDelete, MAX_JSON)));
      return sendJson(res, 200, policyAnswer(current()));
    case 'POST /policy':
    case 'PUT /policy':
      await set(egressOf(await parseBody(req, EgressReplace, MAX_JSON)));
      return sendJson(res, 200, policyAnswer(current()));
    default:
      throw new AgentboxError('not_found', `the egress API has no route ${route}; it serves GET /healthz and GET, PATCH, DELETE, POST, PUT /policy`);
  }
}
