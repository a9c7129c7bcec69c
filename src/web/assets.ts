// The dashboard's static files (client scripts, the style sheet, the icon), read once from
// src/web/static and served from /assets/<name>. Pages link them as /assets/<name>?v=<hash>, so a
// browser may keep each one for a year: a changed file has another URL.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly hash: string;
}

const dir = join(import.meta.dirname, 'static');

/** Files of pinned packages the pages use, served from this origin (the CSP allows no other). */
const VENDOR: Readonly<Record<string, string>> = {
  'uplot.js': 'uplot/dist/uPlot.iife.min.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

function load(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  const require = createRequire(import.meta.url);
  for (const [name, file] of Object.entries(VENDOR)) {
    const body = readFileSync(require.resolve(file));
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  return assets;
}

const assets = load();

/** The URL of a static file, with its content hash. */
export function assetUrl(name: string): string {
  const asset = assets.get(name);
  if (!asset) throw new Error(`no asset ${name} in ${dir}`);
  return `/assets/${name}?v=${asset.hash}`;
}

export function serveAsset(c: Context, name: string): Response | undefined {
  const asset = assets.get(name);
  if (!asset) return undefined;
  const current = c.req.query('v') === asset.hash;
  return c.body(new Uint8Array(asset.body), 200, {
    'Content-Type': asset.type,
    'Cache-Control': current ? 'public, max-age=31536000, immutable' : 'no-cache',
    ETag: `"${asset.hash}"`,
    'X-Content-Type-Options': 'nosniff',
  });
}
