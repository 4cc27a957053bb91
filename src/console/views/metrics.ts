/**
 * Charts of the server's Prometheus metrics (GET /metrics, an admin route): scraped every two
 * seconds while the page is open, the last ten minutes kept in the page.
 */
import { html } from 'lit-html';
import uPlot from 'uplot';
import { call } from '../api.ts';
import { parseMetrics, pointBetween, SANDBOX_STATES, type Point, type Sample } from '../prometheus.ts';
import { errorLine, every, show, type View } from '../view.ts';

const EVERY_MS = 2000;
const KEEP_POINTS = (10 * 60 * 1000) / EVERY_MS;
const COLOURS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626'];

interface Chart { title: string; unit: string; series: { label: string; of: (p: Point) => number | null }[] }

const CHARTS: Chart[] = [
  { title: 'Creates per second', unit: '/s', series: [{ label: 'cold creates', of: (p) => p.createsPerSecond }, { label: 'pool claims', of: (p) => p.claimsPerSecond }] },
  { title: 'Claim and exec latency (mean)', unit: 'ms', series: [{ label: 'claim', of: (p) => p.claimMs }, { label: 'exec', of: (p) => p.execMs }] },
  { title: 'Sandboxes by state', unit: '', series: SANDBOX_STATES.map((s) => ({ label: s, of: (p: Point) => p.sandboxes[s] })) },
  { title: 'Server memory (resident)', unit: 'MiB', series: [{ label: 'RSS', of: (p) => p.residentMiB }] },
];

/** Each series' newest value, e.g. `claim 4.2 ms · exec 11.0 ms`. */
function latest(c: Chart, points: Point[]): string {
  return c.series.map((s) => {
    const v = points.map(s.of).filter((x) => x !== null).at(-1);
    return `${s.label} ${v === undefined ? '—' : `${v.toFixed(1)}${c.unit ? ` ${c.unit}` : ''}`}`;
  }).join(' · ');
}

export const metricsView: View = (root) => {
  let error: unknown;
  show(root, html`<h2>Metrics</h2><div id="metrics-error"></div><div class="charts">${CHARTS.map((c) => html`<figure data-chart=${c.title}><figcaption>${c.title} <span class="latest muted"></span></figcaption></figure>`)}</div>`);
  const figures = Array.from(root.querySelectorAll<HTMLElement>('figure'));
  const times: number[] = [];
  const points: Point[] = [];
  const plots = CHARTS.map((c, i) => new uPlot({
    width: Math.max(320, figures[i]!.clientWidth - 16), height: 200,
    series: [{}, ...c.series.map((s, j) => ({ label: s.label, stroke: COLOURS[j % COLOURS.length]!, width: 2, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ${c.unit}`) }))],
    axes: [{}, { label: c.unit, size: 60 }],
    scales: { x: { time: true } },
  }, [[]], figures[i]!));

  let last: { at: number; samples: Sample[] } | undefined;
  const scrape = async () => {
    const samples = parseMetrics(await (await call('GET', '/metrics')).text());
    const at = Date.now() / 1000;
    if (last) {
      times.push(at);
      points.push(pointBetween(last.samples, samples, at - last.at));
      if (times.length > KEEP_POINTS) { times.shift(); points.shift(); }
      CHARTS.forEach((c, i) => {
        plots[i]!.setData([times, ...c.series.map((s) => points.map(s.of))]);
        figures[i]!.querySelector('.latest')!.textContent = latest(c, points);
        figures[i]!.dataset.points = String(points.length);
      });
    }
    last = { at, samples };
    error = undefined;
    show(root.querySelector<HTMLElement>('#metrics-error')!, errorLine(error));
  };
  const stop = every(EVERY_MS, scrape, (err) => { error = err; show(root.querySelector<HTMLElement>('#metrics-error')!, errorLine(error)); });
  return () => { stop(); for (const p of plots) p.destroy(); };
};
