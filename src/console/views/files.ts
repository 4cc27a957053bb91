/** A directory of the sandbox: enter folders, upload into it, download or remove files. */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { FileEntry, FileList } from '../../api/native.ts';
import { call, json } from '../api.ts';
import { bytes } from '../format.ts';
import { errorLine, show } from '../view.ts';

type Entry = z.infer<typeof FileEntry>;

const parentOf = (path: string): string => path.replace(/\/[^/]+\/?$/, '') || '/';
const join = (dir: string, name: string): string => `${dir.replace(/\/$/, '')}/${name}`;

export function mountFiles(root: HTMLElement, sandboxId: string, startDir: string): void {
  const filesUrl = `/v1/sandboxes/${sandboxId}/files`;
  let dir = startDir;
  let entries: Entry[] = [];
  let error: unknown;
  let note = '';

  const load = async (to: string) => {
    try {
      entries = (await json<z.infer<typeof FileList>>('GET', `${filesUrl}/list`, { query: { path: to } })).entries
        .sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
      dir = to;
      error = undefined;
    } catch (err) { error = err; }
    draw();
  };
  const upload = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    for (const file of Array.from(input.files ?? [])) {
      try {
        await call('PUT', filesUrl, { query: { path: join(dir, file.name) }, raw: file });
        note = `uploaded ${file.name} (${bytes(file.size)})`;
      } catch (err) { error = err; }
    }
    input.value = '';
    await load(dir);
  };
  const download = async (entry: Entry) => {
    try {
      const blob = await (await call('GET', filesUrl, { query: { path: entry.path } })).blob();
      // The key travels in a header, so a plain link cannot fetch the file: hand the browser the bytes.
      const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: entry.name });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      note = `downloaded ${entry.name}`;
    } catch (err) { error = err; }
    draw();
  };
  const remove = async (entry: Entry) => {
    if (!confirm(`Remove ${entry.path}?`)) return;
    try { await call('DELETE', filesUrl, { query: { path: entry.path } }); } catch (err) { error = err; }
    await load(dir);
  };
  const go = (e: SubmitEvent) => {
    e.preventDefault();
    void load(String(new FormData(e.target as HTMLFormElement).get('path')));
  };

  const draw = () => show(root, html`
    <form class="inline" @submit=${go}>
      <label>Directory <input name="path" .value=${dir} size="40"></label>
      <button type="submit">Open</button>
      <button type="button" @click=${() => void load(parentOf(dir))}>Up</button>
      <label class="upload">Upload <input type="file" multiple data-testid="upload" @change=${upload}></label>
    </form>
    ${errorLine(error)}
    ${note ? html`<p class="muted" role="status">${note}</p>` : ''}
    <table class="files">
      <thead><tr><th>Name</th><th>Type</th><th>Size</th><th>Modified</th><th></th></tr></thead>
      <tbody>${entries.map((f) => html`
        <tr data-file=${f.name}>
          <td>${f.type === 'dir' ? html`<a href="" @click=${(e: Event) => { e.preventDefault(); void load(f.path); }}>${f.name}/</a>` : f.name}</td>
          <td>${f.type}</td><td>${f.type === 'file' ? bytes(f.size) : ''}</td><td>${f.modifiedTime ?? ''}</td>
          <td class="actions">${f.type === 'file' ? html`<button data-action="download" @click=${() => void download(f)}>Download</button>` : ''}
            <button class="danger" data-action="remove" @click=${() => void remove(f)}>Remove</button></td>
        </tr>`)}</tbody>
    </table>`);
  void load(dir);
}
