/** Templates the key may use, and a build from a recipe (JSON or the `from` of templates/*.yaml). */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { Template, TemplateList } from '../../api/native.ts';
import { json } from '../api.ts';
import { errorLine, show, type View } from '../view.ts';

const EXAMPLE_RECIPE = '{\n  "oci": { "path": "/var/lib/agentbox/images/app.tar" }\n}';

export const templatesView: View = (root) => {
  let templates: z.infer<typeof Template>[] = [];
  let error: unknown;
  let building = '';
  let built = '';

  const load = async () => {
    try { templates = (await json<z.infer<typeof TemplateList>>('GET', '/v1/templates')).templates; } catch (err) { error = err; }
    draw();
  };
  const build = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const name = String(form.get('name'));
    error = undefined;
    built = '';
    let from: unknown;
    try { from = JSON.parse(String(form.get('from'))); } catch (err) { error = `the recipe is not JSON: ${String(err)}`; draw(); return; }
    building = name;
    draw();
    try {
      const t = await json<z.infer<typeof Template>>('POST', '/v1/templates', { body: { name, from } });
      built = `${t.name}: ${t.state}`;
    } catch (err) { error = err; }
    building = '';
    await load();
  };

  const draw = () => show(root, html`
    <h2>Templates</h2>
    ${errorLine(error)}
    <table>
      <thead><tr><th>Name</th><th>Visibility</th><th>State</th><th>Error</th></tr></thead>
      <tbody>${templates.map((t) => html`<tr data-template=${t.name}><td>${t.name}</td><td>${t.visibility}</td><td class="state state-${t.state}">${t.state}</td><td>${t.error ?? ''}</td></tr>`)}</tbody>
    </table>
    <h3>Build from a recipe</h3>
    <p class="muted">The recipe's <code>from</code> (README, "Templates"); the call returns when the build is done.</p>
    <form @submit=${build}>
      <label>Name <input name="name" required pattern="[a-z0-9][a-z0-9._\\-]{0,62}"></label>
      <label>Recipe: the template's "from", as JSON<textarea name="from" rows="6" cols="60">${EXAMPLE_RECIPE}</textarea></label>
      <button type="submit" ?disabled=${!!building}>${building ? `Building ${building}…` : 'Build'}</button>
      ${built ? html`<span class="muted">${built}</span>` : ''}
    </form>`);
  void load();
  return () => {};
};
