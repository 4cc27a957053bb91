/** xterm.js on a PTY in the sandbox (guest.ts): keys go in, the shell's bytes come out. */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import { openTerminal, type Terminal } from '../guest.ts';
import type { Stop } from '../view.ts';

/** Opens a shell in `el`; `onStatus` hears when it is live, ends or fails. */
export function mountTerminal(el: HTMLElement, sandboxId: string, onStatus: (status: string) => void): Stop {
  const term = new XTerm({ cols: 100, rows: 24, convertEol: false, fontFamily: 'DejaVu Sans Mono, monospace', fontSize: 13 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  fit.fit();
  let shell: Terminal | undefined;
  let closed = false;
  const fail = (err: unknown) => { if (!closed) onStatus(`error: ${String(err)}`); };
  openTerminal(sandboxId, { cols: term.cols, rows: term.rows }, (bytes) => term.write(bytes))
    .then((t) => {
      shell = t;
      if (closed) { void t.kill().catch(() => undefined); return; }
      onStatus(`live (pid ${t.pid})`);
      term.onData((d) => { t.input(d).catch(fail); });
      term.onResize(({ cols, rows }) => { t.resize(cols, rows).catch(fail); });
      term.focus();
      t.ended.then((how) => onStatus(`ended: ${how}`), fail);
    })
    .catch(fail);
  const onWindowResize = () => fit.fit();
  window.addEventListener('resize', onWindowResize);
  return () => {
    closed = true;
    window.removeEventListener('resize', onWindowResize);
    void shell?.kill().catch(() => undefined);
    term.dispose();
  };
}
