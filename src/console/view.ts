/** What every page of the console is: mounted into the main area, and stopped when left. */
import { html, render, type TemplateResult } from 'lit-html';

export type Stop = () => void;
export type View = (root: HTMLElement, params: string[]) => Stop;

/**
 * Runs `tick` now and again every `everyMs` until stopped (the console's pages refresh by
 * polling the API, as any client does). A failing tick shows its error and the next one retries.
 * While the tab is hidden it does not poll (nobody reads the figures); it ticks again at once
 * when the tab is shown.
 */
export function every(everyMs: number, tick: () => Promise<void>, onError: (err: unknown) => void): Stop {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const whenShown = () => void run();
  const run = async () => {
    if (stopped) return;
    if (document.hidden) { document.addEventListener('visibilitychange', whenShown, { once: true }); return; }
    try { await tick(); } catch (err) { onError(err); }
    if (!stopped) timer = setTimeout(() => void run(), everyMs);
  };
  void run();
  return () => { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', whenShown); };
}

/** An error line, or nothing. */
export const errorLine = (err: unknown): TemplateResult | string =>
  err ? html`<p class="error" role="alert">${String(err)}</p>` : '';

/** Renders into `root`; a page's state lives in its closure and it calls this after each change. */
export const show = (root: HTMLElement, t: TemplateResult | string): void => { render(t, root); };
