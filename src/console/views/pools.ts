/** Warm pools: desired size and how many are ready, starting and claimed; set a pool's size. */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { PoolList } from '../../api/native.ts';
import { json } from '../api.ts';
import { errorLine, every, show, type View } from '../view.ts';

export const poolsView: View = (root) => {
  let pools: z.infer<typeof PoolList>['pools'] = [];
  let error: unknown;

  const refresh = async () => {
    pools = (await json<z.infer<typeof PoolList>>('GET', '/v1/pools')).pools;
    error = undefined;
    draw();
  };
  const setSize = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try { await json('PUT', `/v1/pools/${String(form.get('template'))}`, { body: { size: Number(form.get('size')) } }); await refresh(); } catch (err) { error = err; draw(); }
  };

  const draw = () => show(root, html`
    <h2>Warm pools</h2>
    ${errorLine(error)}
    <table>
      <thead><tr><th>Template</th><th>Runtime</th><th>Size</th><th>Ready</th><th>Starting</th><th>Allocated</th><th>Readiness</th></tr></thead>
      <tbody>${pools.map((p) => html`<tr data-pool=${p.template}>
        <td>${p.template}</td><td>${p.runtime}</td><td>${p.size}</td><td>${p.ready}</td><td>${p.starting}</td><td>${p.allocated}</td>
        <td><meter min="0" max=${Math.max(p.size, 1)} .value=${p.ready}></meter> ${p.ready}/${p.size}</td></tr>`)}</tbody>
    </table>
    ${pools.length ? '' : html`<p class="muted">No pools.</p>`}
    <h3>Set a pool's size</h3>
    <form class="inline" @submit=${setSize}>
      <label>Template <input name="template" required></label>
      <label>Size <input name="size" type="number" min="0" max="256" required></label>
      <button type="submit">Set</button>
    </form>`);
  return every(2000, refresh, (err) => { error = err; draw(); });
};
