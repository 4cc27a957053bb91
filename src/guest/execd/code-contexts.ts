/**
 * execd's code-context routes over the code interpreter: POST /code/context, GET and DELETE
 * /code/contexts[?language=], GET and DELETE /code/contexts/{id}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendEmpty, sendJson } from '../http/respond.ts';
import { deleteContext, findContext, interpreterFetch, listContexts, type InterpreterContext } from './code-interpreter.ts';
import type { ExecdDeps } from './deps.ts';
import { readBody } from './request.ts';
import { CreateContextSchema } from './schemas.ts';

const view = (c: InterpreterContext) => ({ id: c.id, language: c.language });

export async function createContext(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, CreateContextSchema);
  const created = await interpreterFetch(deps, '/contexts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ language: body.language, ...(body.cwd ? { cwd: body.cwd } : {}) }),
  });
  sendJson(res, 200, view(await created.json() as InterpreterContext));
}

async function contextsOf(deps: ExecdDeps, url: URL): Promise<InterpreterContext[]> {
  const language = url.searchParams.get('language');
  return (await listContexts(deps)).filter((c) => !language || c.language === language);
}

export async function getContexts(deps: ExecdDeps, url: URL, res: ServerResponse): Promise<void> {
  sendJson(res, 200, (await contextsOf(deps, url)).map(view));
}

export async function deleteContexts(deps: ExecdDeps, url: URL, res: ServerResponse): Promise<void> {
  for (const c of await contextsOf(deps, url)) await deleteContext(deps, c.id);
  sendEmpty(res);
}

export async function getContext(deps: ExecdDeps, id: string, res: ServerResponse): Promise<void> {
  sendJson(res, 200, view(await findContext(deps, id)));
}

export async function deleteOneContext(deps: ExecdDeps, id: string, res: ServerResponse): Promise<void> {
  await findContext(deps, id);
  await deleteContext(deps, id);
  sendEmpty(res);
}
