import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Hono, type Context } from 'hono';

import { ApiErrorCode } from '../errors.js';

export interface WebAppSettings {
  /** Folder of the built page (`index.html` and `assets/`, what `apps/web` builds): `WEB_DIR` or `defaultWebDir()`. */
  webDir: string;
  /** The page offers the local sign-in (`DEV_LOGIN`). */
  devLogin: boolean;
  /** The page offers uploads and deletes (`USER_UPLOADS`). */
  userUploads: boolean;
}

/**
 * Where the page is when `WEB_DIR` is unset: the package's own `dist/web` when it holds a page (where a packaged build
 * or the Docker image puts it), else the repository's `apps/web/dist` (a checkout, after `npm run build`). Works
 * wherever this module runs from (`src/` under tests, `dist/` when built).
 */
export function defaultWebDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/http/routes or dist/http/routes → the package root is three levels up.
  const packageRoot = path.resolve(here, '../../..');
  const packaged = path.join(packageRoot, 'dist/web');
  if (existsSync(path.join(packaged, 'index.html'))) return packaged;
  // packages/stream-server → the repository root is two levels up.
  return path.resolve(packageRoot, '../../apps/web/dist');
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Asset names the build gives a content hash (`app-QKIODIN7.js`): they never change, so they cache for a year. */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+(\.LEGAL\.txt)?$/;
const ASSET_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * The page's Content-Security-Policy: its own scripts only. Connections and media may go to other origins because
 * uploads and segments go straight to the bucket (S3, R2, MinIO), whose origin the page cannot know in advance.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: https: http:",
  "connect-src 'self' https: http:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface CachedFile {
  body: Uint8Array;
  gzip: Uint8Array | null;
  etag: string;
}

/**
 * The web page at `/` (sign in, upload with progress, the user's videos with live status, play, retry, delete)
 * and its bundled assets at `/assets/*`. The page is its own workspace, `apps/web`, built into a folder the server
 * reads (`WEB_DIR`, else `defaultWebDir()`); the server injects its settings (dev sign-in, uploads) into the HTML.
 * Mount at `/`, after the API routes.
 *
 * @example
 * app.route('/', createWebAppRoutes({ webDir: defaultWebDir(), devLogin: true, userUploads: true }));
 */
export function createWebAppRoutes(settings: WebAppSettings) {
  const app = new Hono();
  const files = new Map<string, Promise<CachedFile | null>>();

  const load = (file: string, transform?: (text: string) => string): Promise<CachedFile | null> => {
    let cached = files.get(file);
    if (!cached) {
      cached = (async () => {
        const raw = await fs.readFile(file).catch(() => null);
        if (!raw) return null;
        const body = transform
          ? new TextEncoder().encode(transform(raw.toString('utf8')))
          : new Uint8Array(raw);
        const gzip = transform ? null : await fs.readFile(`${file}.gz`).catch(() => null);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        return { body, gzip: gzip ? new Uint8Array(gzip) : null, etag };
      })();
      // A missing file is looked up again next time (the build may run after the server started).
      cached.then(
        (found) => found ?? files.delete(file),
        () => files.delete(file),
      );
      files.set(file, cached);
    }
    return cached;
  };

  const send = (c: Context, file: CachedFile, headers: Record<string, string>) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    c.header('ETag', file.etag);
    c.header('X-Content-Type-Options', 'nosniff');
    if (file.gzip) c.header('Vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
    if (file.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(file.gzip as Uint8Array<ArrayBuffer>, 200);
    }
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200);
  };

  const pageConfig = JSON.stringify({ dev_login: settings.devLogin, user_uploads: settings.userUploads })
    // Never let the JSON close the script element it sits in.
    .replace(/</g, '\\u003c');

  app.get('/', async (c) => {
    const page = await load(path.join(settings.webDir, 'index.html'), (html) =>
      html.replace(
        '<!--notetaker-config-->',
        `<script type="application/json" id="notetaker-config">${pageConfig}</script>`,
      ),
    );
    if (!page) {
      return c.json(
        {
          error: {
            code: ApiErrorCode.Unavailable,
            message:
              'The web page is not built: run `npm run build` at the repository root (it builds apps/web into ' +
              'apps/web/dist), or set WEB_DIR to the folder of a built page, or WEB_APP=false to turn it off.',
          },
        },
        503,
      );
    }
    return send(c, page, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': PAGE_CSP,
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
  });

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = CONTENT_TYPES[path.extname(name)];
    if (!ASSET_NAME.test(name) || name.startsWith('.') || !type) {
      return c.json({ error: { code: ApiErrorCode.NotFound, message: 'No such file.' } }, 404);
    }
    const file = await load(path.join(settings.webDir, 'assets', name));
    if (!file) return c.json({ error: { code: ApiErrorCode.NotFound, message: 'No such file.' } }, 404);
    return send(c, file, {
      'Content-Type': type,
      'Cache-Control': HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  });

  return app;
}
