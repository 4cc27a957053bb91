// Bundles the web console (src/console, docs/console.md) with esbuild into build/console/:
// index.html and assets/<name>-<hash>.{js,css} that src/gateway/console.ts serves at /ui.
// Everything comes from node_modules (no CDN). scripts/setup.sh runs it; so does the console's
// test (test/console), so that it always tests the current source. scripts/build.mjs calls
// buildConsole() to put the same bundle beside the single-file server (dist/console/).
// Usage: npm run build:console
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url).pathname;

/**
 * Writes `body` to `path` in `out` through a temporary file renamed into place, so a reader sees
 * the old file or the new one, never a part. The temporary file sits in `out` itself, where the
 * server reads nothing but index.html, not beside the assets it lists.
 */
function replaceFile(out, path, body) {
  const partial = join(out, `.${basename(path)}.${process.pid}.partial`);
  writeFileSync(partial, body);
  renameSync(partial, path);
}

/**
 * Writes the bundle into `out`; returns a one-line summary. A server may be serving `out` while
 * this runs (an `agentbox up` beside the console's test, which rebuilds it), and reads the files at
 * its first request for the console: so the directory is never emptied. The hashed assets go in
 * first (a name already there holds the same bytes), then index.html, which names them, and only
 * then are the assets of earlier builds removed.
 */
export async function buildConsole(out) {
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
    write: false,
    logLevel: 'warning',
  });
  const outputs = result.outputFiles.map((f) => basename(f.path));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  const assets = join(out, 'assets');
  mkdirSync(assets, { recursive: true });
  for (const f of result.outputFiles) {
    const path = join(assets, basename(f.path));
    // A source map is named after its script, not its own bytes: it is always written.
    if (!existsSync(path) || path.endsWith('.map')) replaceFile(out, path, f.contents);
  }
  // Relative asset URLs: the page is /ui/, so they resolve under /ui/assets/.
  replaceFile(out, join(out, 'index.html'), `<!doctype html>
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
  for (const stale of readdirSync(assets).filter((f) => !outputs.includes(f))) rmSync(join(assets, stale), { force: true });
  const bytes = Object.entries(result.metafile.outputs).filter(([f]) => !f.endsWith('.map')).reduce((a, [, o]) => a + o.bytes, 0);
  return `${script}, ${style} (${(bytes / 1024).toFixed(0)} KiB)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`build/console: ${await buildConsole(`${root}build/console`)}`);
}
