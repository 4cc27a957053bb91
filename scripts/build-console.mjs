// Bundles the web console (src/console, docs/console.md) with esbuild into build/console/:
// index.html and assets/<name>-<hash>.{js,css} that src/gateway/console.ts serves at /ui.
// Everything comes from node_modules (no CDN). scripts/setup.sh runs it; so does the console's
// test (test/console), so that it always tests the current source. scripts/build.mjs calls
// buildConsole() to put the same bundle beside the single-file server (dist/console/).
// Usage: npm run build:console
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url).pathname;

/** Writes the bundle into `out` (emptied first); returns a one-line summary. */
export async function buildConsole(out) {
  rmSync(out, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { console: 'src/console/main.ts' },
    outdir: `${out}/assets`,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  mkdirSync(out, { recursive: true });
  // Relative asset URLs: the page is /ui/, so they resolve under /ui/assets/.
  writeFileSync(`${out}/index.html`, `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agentbox</title>
<link rel="stylesheet" href="assets/${style}">
<script type="module" src="assets/${script}"></script>
</head>
<body><div id="app"></div></body>
</html>
`);
  const bytes = Object.entries(result.metafile.outputs).filter(([f]) => !f.endsWith('.map')).reduce((a, [, o]) => a + o.bytes, 0);
  return `${script}, ${style} (${(bytes / 1024).toFixed(0)} KiB)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`build/console: ${await buildConsole(`${root}build/console`)}`);
}
