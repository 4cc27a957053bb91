/** One sandbox: its state, live resource use and actions, a terminal, a command runner and its files. */
import { html } from 'lit-html';
import type { z } from 'zod';
import type { Sandbox } from '../../api/native.ts';
import { json } from '../api.ts';
import { age, remaining } from '../format.ts';
import { usageFigures, usageReader, type LiveUsage } from '../usage.ts';
import { errorLine, every, show, type Stop, type View } from '../view.ts';
import { mountExec } from './exec.ts';
import { mountFiles } from './files.ts';
import { actionButtons, sandboxActions } from './sandboxes.ts';
import { mountTerminal } from './terminal.ts';

export const sandboxView: View = (root, [id]) => {
  const sandboxId = id!;
  let info: z.infer<typeof Sandbox> | undefined;
  let error: unknown;
  let terminalStatus = 'closed';
  let stopTerminal: Stop | undefined;
  let forked = '';
  let usage: LiveUsage | undefined;
  const readUsage = usageReader();

  // Sections whose content other modules render keep their own elements across redraws.
  show(root, html`
    <h2>Sandbox <code>${sandboxId}</code> <a class="muted small" href="#/sandboxes">all sandboxes</a></h2>
    <div id="summary"></div>
    <section><h3>Terminal</h3><div id="terminal-bar"></div><div id="terminal" class="terminal"></div></section>
    <section><h3>Run a command</h3><div id="exec"></div></section>
    <section><h3>Files</h3><div id="files"></div></section>`);
  const part = (name: string) => root.querySelector<HTMLElement>(`#${name}`)!;

  const closeTerminal = () => { stopTerminal?.(); stopTerminal = undefined; terminalStatus = 'closed'; drawBar(); };
  const openTerminal = () => {
    closeTerminal();
    terminalStatus = 'connecting';
    stopTerminal = mountTerminal(part('terminal'), sandboxId, (s) => { terminalStatus = s; drawBar(); });
    drawBar();
  };
  const drawBar = () => show(part('terminal-bar'), html`
    <button data-action="open-terminal" ?disabled=${info?.state !== 'running'} @click=${openTerminal}>${stopTerminal ? 'Reconnect' : 'Open terminal'}</button>
    ${stopTerminal ? html`<button @click=${closeTerminal}>Close</button>` : ''}
    <span class="muted" data-testid="terminal-status">${terminalStatus}</span>`);

  const refresh = async () => {
    info = await json<z.infer<typeof Sandbox>>('GET', `/v1/sandboxes/${sandboxId}`);
    error = undefined;
    drawBar();
    // A paused sandbox uses nothing: no read, no figures.
    usage = (await readUsage(info.state === 'running' ? [sandboxId] : [])).get(sandboxId);
    drawSummary();
  };
  const act = async (name: keyof typeof sandboxActions) => {
    try {
      const result = await sandboxActions[name](sandboxId);
      if (name === 'fork') forked = (result as z.infer<typeof Sandbox>).id;
      if (name === 'kill') { location.hash = '#/sandboxes'; return; }
      if (name === 'pause') closeTerminal();
      await refresh();
    } catch (err) { error = err; drawSummary(); }
  };
  const drawSummary = () => show(part('summary'), html`
    ${errorLine(error)}
    ${info ? html`
      <dl class="summary" data-state=${info.state}>
        <dt>State</dt><dd class="state state-${info.state}" data-testid="state">${info.state}</dd>
        <dt>Template</dt><dd>${info.template} (${info.runtime})</dd>
        <dt>Age</dt><dd>${age(info.createdAt)}</dd>
        <dt>Timeout</dt><dd>${info.timeoutSeconds}s, on timeout: ${info.onTimeout}; ${remaining(info.expiresAt)} left</dd>
        <dt>Resources</dt><dd>${info.cpu} CPU, ${info.memoryMiB} MiB</dd>
        ${usage ? html`<dt>In use</dt><dd>${usageFigures(usage)}</dd>` : ''}
      </dl>
      <p class="actions">${actionButtons(info, (name) => void act(name))}
        ${forked ? html`<span class="muted">forked into <a href="#/sandboxes/${forked}">${forked}</a></span>` : ''}</p>` : ''}`);

  drawBar();
  mountExec(part('exec'), sandboxId);
  mountFiles(part('files'), sandboxId, '/tmp');
  const stopPolling = every(2000, refresh, (err) => { error = err; drawSummary(); });
  return () => { stopPolling(); stopTerminal?.(); };
};
