/** Runs a command in the sandbox and shows its output as it streams (ExecEvent lines). */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { ExecEvent } from '../../api/native.ts';
import { call, ndjsonLines } from '../api.ts';
import { errorLine, show } from '../view.ts';

export function mountExec(root: HTMLElement, sandboxId: string): void {
  let output: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  let status = '';
  let error: unknown;
  let running = false;

  const run = async (e: SubmitEvent) => {
    e.preventDefault();
    const cmd = String(new FormData(e.target as HTMLFormElement).get('cmd'));
    output = [];
    status = 'running';
    error = undefined;
    running = true;
    draw();
    try {
      const res = await call('POST', `/v1/sandboxes/${sandboxId}/exec`, { body: { cmd }, accept: 'application/x-ndjson' });
      for await (const ev of ndjsonLines<z.infer<typeof ExecEvent>>(res)) {
        if (ev.type === 'stdout' || ev.type === 'stderr') output.push({ stream: ev.type, text: ev.data });
        else if (ev.type === 'end') status = `exit ${ev.exitCode}${ev.status ? ` (${ev.status})` : ''}`;
        else { status = 'failed'; error = `${ev.code}: ${ev.message}`; }
        draw();
      }
    } catch (err) { error = err; status = 'failed'; }
    running = false;
    draw();
  };

  const draw = () => show(root, html`
    <form class="inline" @submit=${run}>
      <label>Command <input name="cmd" size="60" required placeholder="ls -la /"></label>
      <button type="submit" ?disabled=${running}>Run</button>
      <span class="muted" data-testid="exec-status">${status}</span>
    </form>
    ${errorLine(error)}
    <pre class="output" data-testid="exec-output">${output.map((o) => html`<span class=${o.stream}>${o.text}</span>`)}</pre>`);
  draw();
}
