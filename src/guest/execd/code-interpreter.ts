/**
 * execd's code contexts run on the sandbox's code interpreter, the same Jupyter kernels the E2B
 * code interpreter uses (templates/code-interpreter-v1.yaml, port 49999): this is its client.
 * A sandbox without it answers 501 NOT_SUPPORTED naming the template that has it.
 */
import { AgentboxError } from '../../api/errors.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';

export interface InterpreterContext {
  id: string;
  language: string;
  cwd?: string;
}

export async function interpreterFetch(deps: ExecdDeps, path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${deps.codeInterpreterUrl}${path}`, init);
  } catch (err) {
    throw execdError('not_supported', 'NOT_SUPPORTED', 'this sandbox runs no code interpreter; create it from the code-interpreter-v1 template', err);
  }
  if (res.ok) return res;
  const text = await res.text();
  if (res.status === 404) throw execdError('not_found', 'CONTEXT_NOT_FOUND', text || `not found: ${path}`);
  if (res.status === 400) throw new AgentboxError('invalid_argument', text);
  throw execdError('internal', 'RUNTIME_ERROR', `code interpreter answered ${res.status}: ${text}`);
}

export async function listContexts(deps: ExecdDeps): Promise<InterpreterContext[]> {
  return await (await interpreterFetch(deps, '/contexts')).json() as InterpreterContext[];
}

export async function findContext(deps: ExecdDeps, id: string): Promise<InterpreterContext> {
  const found = (await listContexts(deps)).find((c) => c.id === id);
  if (!found) throw execdError('not_found', 'CONTEXT_NOT_FOUND', `code context '${id}' does not exist`);
  return found;
}

export async function deleteContext(deps: ExecdDeps, id: string): Promise<void> {
  await interpreterFetch(deps, `/contexts/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
