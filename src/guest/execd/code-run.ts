/**
 * POST /code: runs code in a context of the code interpreter and streams execd's events; with
 * neither a context id nor a language, the code is a shell line run like POST /command (as
 * upstream). The interpreter's NDJSON (E2B's /execute events) is translated event by event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACCESS_TOKEN_HEADER } from '../../api/envd-protocol.ts';
import { AgentboxError } from '../../api/errors.ts';
import { interpreterFetch } from './code-interpreter.ts';
import { startCommand } from './command-run.ts';
import { newExecutionId } from './commands.ts';
import type { ExecdDeps } from './deps.ts';
import { readBody } from './request.ts';
import { RunCodeSchema } from './schemas.ts';
import { openEventStream, type EventInit, type EventSink } from './sse.ts';

/** E2B result fields back to the MIME types execd reports (`text/plain` is execd's `text`). */
const MIME_OF: Record<string, string> = {
  text: 'text', html: 'text/html', markdown: 'text/markdown', svg: 'image/svg+xml', png: 'image/png',
  jpeg: 'image/jpeg', pdf: 'application/pdf', latex: 'text/latex', json: 'application/json',
  javascript: 'application/javascript', data: 'e2b/data', chart: 'e2b/chart',
};

interface InterpreterEvent {
  type: string;
  text?: string;
  execution_count?: number;
  name?: string;
  value?: string;
  traceback?: string;
  extra?: Record<string, unknown>;
  [field: string]: unknown;
}

/** One interpreter event as execd's, or undefined for those execd has no frame for (keepalive, the end). */
export function translate(ev: InterpreterEvent): EventInit | undefined {
  switch (ev.type) {
    case 'stdout':
    case 'stderr':
      return { type: ev.type, text: ev.text ?? '' };
    case 'number_of_executions':
      return { type: 'execution_count', execution_count: ev.execution_count };
    case 'error':
      return { type: 'error', error: { ename: ev.name ?? 'Error', evalue: ev.value ?? '', traceback: (ev.traceback ?? '').split('\n') } };
    case 'result': {
      const results: Record<string, unknown> = { ...ev.extra };
      for (const [field, mime] of Object.entries(MIME_OF)) if (ev[field] !== undefined) results[mime] = ev[field];
      return { type: 'result', results };
    }
    default:
      return undefined;
  }
}

async function relay(deps: ExecdDeps, body: { context?: { id?: string; language?: string }; code: string }, sink: EventSink): Promise<void> {
  const abort = new AbortController();
  sink.signal.addEventListener('abort', () => abort.abort(), { once: true });
  const started = Date.now();
  const ctx = body.context ?? {};
  const res = await interpreterFetch(deps, '/execute', {
    method: 'POST',
    // The interpreter reads the sandbox's env from the guest with the caller's token (server.py).
    headers: { 'content-type': 'application/json', ...(deps.state.accessToken ? { [ACCESS_TOKEN_HEADER]: deps.state.accessToken } : {}) },
    body: JSON.stringify({ code: body.code, ...(ctx.id ? { context_id: ctx.id } : { language: ctx.language }) }),
    signal: abort.signal,
  });
  sink.send({ type: 'init', text: newExecutionId() });
  let failed = false;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const lines = (buffered + decoder.decode(chunk, { stream: true })).split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const ev = translate(JSON.parse(line) as InterpreterEvent);
      if (ev?.type === 'error') failed = true;
      if (ev) sink.send(ev);
    }
  }
  // Like a command, a run that raised ends with its error and no execution_complete.
  if (!failed) sink.send({ type: 'execution_complete', execution_time: Date.now() - started });
  sink.end();
}

export async function runCode(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, RunCodeSchema);
  if (!body.context?.id && !body.context?.language) {
    if (!body.code.trim()) throw new AgentboxError('invalid_argument', 'code is empty');
    return startCommand(deps, { command: body.code }, req, res);
  }
  await relay(deps, body, openEventStream(req, res));
}
