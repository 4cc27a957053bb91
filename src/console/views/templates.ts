/**
 * Templates the key may use, and a build from a recipe (templates/*.yaml, written as JSON) with
 * its progress lines streamed as they happen (TemplateBuildEvent).
 */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { Template, TemplateBuildEvent, TemplateList } from '../../api/native.ts';
import { call, json, ndjsonLines } from '../api.ts';
import { errorLine, show, type View } from '../view.ts';

const EXAMPLE_RECIPE = JSON.stringify({ from: { template: 'busybox' }, run: ['echo hello from the build > /hello'] }, null, 2);

export const templatesView: View = (root) => {
  let templates: z.infer<typeof Template>[] = [];
  let error: unknown;
  let building = '';
  let built = '';
  let log: string[] = [];

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
    log = [];
    let recipe: unknown;
    try { recipe = JSON.parse(String(form.get('recipe'))); } catch (err) { error = `the recipe is not JSON: ${String(err)}`; draw(); return; }
    building = name;
    draw();
    try {
      const res = await call('POST', '/v1/templates', { body: { ...(recipe as object), name }, accept: 'application/x-ndjson' });
      for await (const ev of ndjsonLines<z.infer<typeof TemplateBuildEvent>>(res)) {
        if (ev.type === 'log') log.push(ev.line);
        else if (ev.type === 'end') built = `${ev.template.name}: ${ev.template.state}`;
        else error = `${ev.code}: ${ev.message}`;
        draw();
      }
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
    <p class="muted">A recipe as in templates/*.yaml (from, packages, files, run, env, …), written as JSON.</p>
    <form @submit=${build}>
      <label>Name <input name="name" required pattern="[a-z0-9][a-z0-9._\\-]{0,62}"></label>
      <label>Recipe<textarea name="recipe" rows="8" cols="60" .value=${EXAMPLE_RECIPE}></textarea></label>
      <button type="submit" ?disabled=${!!building}>${building ? `Building ${building}…` : 'Build'}</button>
      <span class="muted" data-testid="build-result">${built}</span>
    </form>
    ${log.length ? html`<pre class="output" data-testid="build-log">${log.join('\n')}</pre>` : ''}`);
  void load();
  return () => {};
};
