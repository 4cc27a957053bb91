/** Tenants and API keys, for admin keys (the routes refuse others: permission_denied is shown). */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { ApiKey, CreatedKey, Tenant } from '../../api/native.ts';
import { json } from '../api.ts';
import { errorLine, show, type View } from '../view.ts';

export const adminView: View = (root) => {
  let tenants: z.infer<typeof Tenant>[] = [];
  let keys: z.infer<typeof ApiKey>[] = [];
  let error: unknown;
  let secret: z.infer<typeof CreatedKey> | undefined;

  // The page's first load and a form's reload may overlap: only the last one started may show its
  // answer, or a late first answer would hide the tenant or key just made.
  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    try {
      const answers = await Promise.all([
        json<{ tenants: z.infer<typeof Tenant>[] }>('GET', '/v1/tenants').then((r) => r.tenants),
        json<{ keys: z.infer<typeof ApiKey>[] }>('GET', '/v1/keys').then((r) => r.keys),
      ]);
      if (mine !== loads) return;
      [tenants, keys] = answers;
    } catch (err) {
      if (mine !== loads) return;
      error = err;
    }
    draw();
  };
  const submit = (what: (form: FormData) => Promise<unknown>) => async (e: SubmitEvent) => {
    e.preventDefault();
    error = undefined;
    try { await what(new FormData(e.target as HTMLFormElement)); } catch (err) { error = err; }
    await load();
  };
  const createTenant = submit((f) => json('POST', '/v1/tenants', { body: { name: String(f.get('name')) } }));
  const createKey = submit(async (f) => {
    secret = await json<z.infer<typeof CreatedKey>>('POST', '/v1/keys', { body: { tenant: String(f.get('tenant')), name: String(f.get('name')), admin: f.get('admin') === 'on' } });
    draw(); // the secret is shown once: at once, not after the lists' reload
  });
  const revoke = async (id: string) => {
    if (!confirm(`Revoke key ${id}?`)) return;
    try { await json('DELETE', `/v1/keys/${id}`); } catch (err) { error = err; }
    await load();
  };

  const draw = () => show(root, html`
    <h2>Tenants and keys</h2>
    ${errorLine(error)}
    <h3>Tenants</h3>
    <table><thead><tr><th>Name</th><th>ID</th><th>Created</th></tr></thead>
      <tbody>${tenants.map((t) => html`<tr><td>${t.name}</td><td><code>${t.id}</code></td><td>${t.createdAt}</td></tr>`)}</tbody></table>
    <form class="inline" @submit=${createTenant}>
      <label>New tenant <input name="name" required pattern="[a-z0-9][a-z0-9\\-]{0,62}"></label><button type="submit">Create</button>
    </form>
    <h3>API keys</h3>
    ${secret ? html`<p class="secret" role="status">Key <b>${secret.name}</b> for ${secret.tenant}: <code>${secret.key}</code> (shown once)</p>` : ''}
    <table><thead><tr><th>Name</th><th>Tenant</th><th>Prefix</th><th>Admin</th><th>Created</th><th>Revoked</th><th></th></tr></thead>
      <tbody>${keys.map((k) => html`<tr><td>${k.name}</td><td>${k.tenant}</td><td><code>${k.prefix}</code></td><td>${k.admin ? 'yes' : ''}</td>
        <td>${k.createdAt}</td><td>${k.revokedAt ?? ''}</td>
        <td>${k.revokedAt ? '' : html`<button class="danger" @click=${() => void revoke(k.id)}>Revoke</button>`}</td></tr>`)}</tbody></table>
    <form class="inline" @submit=${createKey}>
      <label>Tenant <select name="tenant">${tenants.map((t) => html`<option>${t.name}</option>`)}</select></label>
      <label>Name <input name="name" maxlength="128"></label>
      <label><input type="checkbox" name="admin"> admin</label>
      <button type="submit">Create key</button>
    </form>`);
  void load();
  return () => {};
};
