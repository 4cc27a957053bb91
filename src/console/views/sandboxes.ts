/**
 * The sandbox list: state, template, age, timeout, resources and live use (CPU%, memory, pids of
 * each running one, usage.ts) of each, refreshed every two seconds while the tab is shown; create one from a template, and pause, resume, fork or kill from its row.
 */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { Sandbox, SandboxList, TemplateList } from '../../api/native.ts';
import { json } from '../api.ts';
import { age, bytes, remaining } from '../format.ts';
import { usageFigures, usageReader, type LiveUsage } from '../usage.ts';
import { errorLine, every, show, type View } from '../view.ts';

type SandboxInfo = z.infer<typeof Sandbox>;

/** The row actions, each one call of the native API. */
export const sandboxActions = {
  pause: (id: string) => json('POST', `/v1/sandboxes/${id}/pause`),
  resume: (id: string) => json('POST', `/v1/sandboxes/${id}/resume`),
  fork: (id: string) => json('POST', `/v1/sandboxes/${id}/fork`, { body: {} }),
  kill: (id: string) => json('DELETE', `/v1/sandboxes/${id}`),
};

export function actionButtons(s: SandboxInfo, act: (name: keyof typeof sandboxActions) => void) {
  return html`
    ${s.state === 'running' ? html`<button data-action="pause" @click=${() => act('pause')}>Pause</button>` : ''}
    ${s.state === 'paused' ? html`<button data-action="resume" @click=${() => act('resume')}>Resume</button>` : ''}
    ${s.state === 'running' ? html`<button data-action="fork" @click=${() => act('fork')}>Fork</button>` : ''}
    <button class="danger" data-action="kill" @click=${() => act('kill')}>Kill</button>`;
}

export const sandboxesView: View = (root) => {
  let sandboxes: SandboxInfo[] = [];
  let templates: z.infer<typeof TemplateList>['templates'] = [];
  let usage = new Map<string, LiveUsage>();
  const readUsage = usageReader();
  let error: unknown;
  let busy = false;

  const refresh = async () => {
    sandboxes = (await json<z.infer<typeof SandboxList>>('GET', '/v1/sandboxes', { query: { limit: 1000 } })).sandboxes;
    error = undefined;
    // The list first: a failed usage read shows its error above the list, not instead of it.
    draw();
    usage = await readUsage(sandboxes.filter((s) => s.state === 'running').map((s) => s.id));
    draw();
  };
  const act = async (what: () => Promise<unknown>) => {
    busy = true;
    draw();
    try { await what(); error = undefined; } catch (err) { error = err; }
    busy = false;
    await refresh().catch((err: unknown) => { error = err; draw(); });
  };
  const create = (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const timeout = Number(form.get('timeout'));
    void act(() => json('POST', '/v1/sandboxes', { body: { template: String(form.get('template')), ...(timeout ? { timeoutSeconds: timeout } : {}) } }));
  };

  const row = (s: SandboxInfo) => html`
    <tr data-sandbox=${s.id} data-state=${s.state}>
      <td><a href="#/sandboxes/${s.id}">${s.id}</a></td>
      <td class="state state-${s.state}">${s.state}</td>
      <td>${s.template}</td>
      <td>${age(s.createdAt)}</td>
      <td title="expires ${s.expiresAt ?? 'never (timer stopped)'}">${s.timeoutSeconds}s · ${remaining(s.expiresAt)} left</td>
      <td>${s.cpu} CPU · ${s.memoryMiB} MiB${s.disk ? html` · disk ${bytes(s.disk.usedBytes)} / ${bytes(s.disk.limitBytes)}` : ''}</td>
      <td>${usageFigures(usage.get(s.id))}</td>
      <td class="actions">${actionButtons(s, (name) => void act(() => sandboxActions[name](s.id)))}</td>
    </tr>`;

  const draw = () => show(root, html`
    <h2>Sandboxes</h2>
    <form class="inline" @submit=${create}>
      <label>Template <select name="template" required>${templates.map((t) => html`<option>${t.name}</option>`)}</select></label>
      <label>Timeout (s) <input name="timeout" type="number" min="1" max="86400" placeholder="300"></label>
      <button type="submit" ?disabled=${busy}>Create sandbox</button>
    </form>
    ${errorLine(error)}
    <table>
      <thead><tr><th>ID</th><th>State</th><th>Template</th><th>Age</th><th>Timeout</th><th>Resources</th><th>In use</th><th></th></tr></thead>
      <tbody>${sandboxes.map(row)}</tbody>
    </table>
    ${sandboxes.length ? '' : html`<p class="muted">No sandboxes.</p>`}`);

  json<z.infer<typeof TemplateList>>('GET', '/v1/templates')
    // Every template the key may use: one not built yet ('missing') is built by its first create.
    .then((t) => { templates = t.templates.filter((x) => x.state !== 'failed'); draw(); })
    .catch((err: unknown) => { error = err; draw(); });
  return every(2000, refresh, (err) => { error = err; draw(); });
};
