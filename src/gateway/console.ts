/**
 * The web console's static files at `/ui` (docs/console.md): the bundle that
 * scripts/build-console.mjs writes (setup.sh runs it; scripts/build.mjs too, into dist/), served from memory with its content type,
 * a strict Content-Security-Policy and caching by name: the hashed assets never change, so they
 * are cached for good; `index.html` names the current ones, so it is revalidated every time.
 *
 * The shell itself needs no key: it holds no data. Every API call it makes carries the key the
 * user typed, through the same authentication as any other client (auth.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentboxError } from '../api/errors.ts';

/**
 * Where the bundle is. Run from the sources (tsx, this file is .ts): build/console/ of the
 * checkout, written by scripts/build-console.mjs. Run from the single-file build (this code is in
 * one of dist/'s .mjs files, scripts/build.mjs): dist/console/, which that build writes beside them.
 */
const RUNS_FROM_SOURCE = import.meta.url.endsWith('.ts');
export const CONSOLE_BUNDLE_DIR = fileURLToPath(new URL(RUNS_FROM_SOURCE ? '../../build/console/' : 'console/', import.meta.url));

export const CONSOLE_PATH = '/ui';

/**
 * Scripts and everything else only from this origin, no framing, no plugins. Styles allow
 * 'unsafe-inline' because xterm.js writes its themed rules into a <style> element at run time
 * (its DOM renderer); scripts, where injection matters, stay 'self' only.
 */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "font-src 'self'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

interface Asset { body: Buffer; type: string; etag: string; immutable: boolean }

export interface ConsoleFiles {
  /** Answers the request when it is for the console; false leaves it to the API. */
  http(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
}

/** The console served from `dir`; the files are read once, at the first request for them. */
export function consoleFiles(dir: string = CONSOLE_BUNDLE_DIR): ConsoleFiles {
  let assets: Map<string, Asset> | undefined;
  return {
    http(req, res, pathname) {
      if (pathname !== CONSOLE_PATH && !pathname.startsWith(`${CONSOLE_PATH}/`)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new AgentboxError('invalid_argument', `${req.method} is not allowed on ${pathname}; the console is static files (GET)`);
      }
      if (pathname === CONSOLE_PATH) {
        res.writeHead(308, { Location: `${CONSOLE_PATH}/` });
        res.end();
        return true;
      }
      assets ??= loadAssets(dir);
      const name = pathname.slice(CONSOLE_PATH.length + 1) || 'index.html';
      // Only names of the bundle are served: the map is the whole allow-list, so no path escapes it.
      const asset = assets.get(name);
      if (!asset) throw new AgentboxError('not_found', `the console has no file ${pathname}`);
      const headers: Record<string, string> = {
        'Content-Type': asset.type,
        'Content-Security-Policy': CONSOLE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ETag: asset.etag,
      };
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      res.writeHead(200, { ...headers, 'Content-Length': String(asset.body.length) });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return true;
    },
  };
}

function loadAssets(dir: string): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new AgentboxError('unavailable', `the web console is not built (no ${join(dir, 'index.html')}): ${RUNS_FROM_SOURCE ? 'run scripts/setup.sh or npm run build:console' : 'npm run build writes it beside the server'}`);
  }
  const assets = new Map<string, Asset>();
  // The bundle is index.html and assets/* (build-console.mjs): two levels, no deeper.
  const names = ['index.html', ...(existsSync(join(dir, 'assets')) ? readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`) : [])];
  for (const name of names) {
    const body = readFileSync(join(dir, name));
    assets.set(name, {
      body, type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      // esbuild names every asset `<name>-<hash>.<ext>` (build-console.mjs); only index.html is not.
      immutable: name.startsWith('assets/'),
    });
  }
  return assets;
}
