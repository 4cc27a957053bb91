/**
 * The web console (docs/console.md): a key prompt until a key is entered, then the pages, chosen
 * by the URL's hash. Nothing is fetched before there is a key, and the key is checked against
 * the server (GET /v1/limits) before it is kept.
 */
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html } from 'lit-html';
import { call, whenUnauthenticated } from './api.ts';
import { forgetKey, saveKey, savedKey } from './key.ts';
import { errorLine, show, type Stop, type View } from './view.ts';
import { adminView } from './views/admin.ts';
import { metricsView } from './views/metrics.ts';
import { poolsView } from './views/pools.ts';
import { sandboxView } from './views/sandbox.ts';
import { sandboxesView } from './views/sandboxes.ts';
import { templatesView } from './views/templates.ts';

const PAGES: { pattern: RegExp; title: string; view: View; nav?: string }[] = [
  { pattern: /^#\/sandboxes\/([a-z0-9]+)$/, title: 'Sandbox', view: sandboxView },
  { pattern: /^#\/sandboxes$/, title: 'Sandboxes', view: sandboxesView, nav: '#/sandboxes' },
  { pattern: /^#\/templates$/, title: 'Templates', view: templatesView, nav: '#/templates' },
  { pattern: /^#\/pools$/, title: 'Pools', view: poolsView, nav: '#/pools' },
  { pattern: /^#\/admin$/, title: 'Tenants and keys', view: adminView, nav: '#/admin' },
  { pattern: /^#\/metrics$/, title: 'Metrics', view: metricsView, nav: '#/metrics' },
];

const app = document.getElementById('app')!;
let stopPage: Stop | undefined;

function keyPrompt(error?: unknown): void {
  stopPage?.();
  stopPage = undefined;
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const key = String(new FormData(e.target as HTMLFormElement).get('key')).trim();
    saveKey(key);
    try {
      await call('GET', '/v1/limits');
      route();
    } catch (err) {
      forgetKey();
      keyPrompt(err);
    }
  };
  show(app, html`
    <main class="key-prompt">
      <h1>agentbox</h1>
      <form @submit=${submit}>
        <label>API key <input name="key" type="password" autocomplete="off" required autofocus placeholder="e2b_…"></label>
        <button type="submit">Enter</button>
      </form>
      ${errorLine(error)}
      <p class="muted">The key stays in this tab's session storage and goes with every API call. <code>agentbox up</code> prints where the admin key is.</p>
    </main>`);
}

function route(): void {
  if (!savedKey()) return keyPrompt();
  if (!PAGES.some((p) => p.pattern.test(location.hash))) { location.hash = '#/sandboxes'; return; }
  const page = PAGES.find((p) => p.pattern.test(location.hash))!;
  const params = page.pattern.exec(location.hash)!.slice(1);
  stopPage?.();
  const signOut = () => { forgetKey(); keyPrompt(); };
  show(app, html`
    <header>
      <h1>agentbox</h1>
      <nav>${PAGES.filter((p) => p.nav).map((p) => html`<a href=${p.nav!} class=${location.hash.startsWith(p.nav!) ? 'current' : ''}>${p.title}</a>`)}</nav>
      <button class="link" @click=${signOut}>Forget key</button>
    </header>
    <main id="page"></main>`);
  document.title = `${page.title} · agentbox`;
  stopPage = page.view(document.getElementById('page')!, params);
}

whenUnauthenticated(() => keyPrompt('the server refused the key: enter it again'));
window.addEventListener('hashchange', route);
route();
