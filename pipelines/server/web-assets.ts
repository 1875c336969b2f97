/**
 * server/web-assets — serves the built web UI (dist/web: index.html, *.js, *.css) and Plotly's bundle from
 * a fixed table of files read at start-up: a request can only name a file of that table, so no request
 * path ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { resolveWorkerScript } from '../runner/worker-path.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The root of the built cellar package (where dist/web lives), found like the step worker is (library code
 * cannot use `import.meta` or `__dirname`: the sources compile to ESM and CommonJS).
 */
export function findPackageRoot(): string | null {
  try {
    return resolve(dirname(resolveWorkerScript()), '..', '..', '..', '..');
  } catch {
    return null;
  }
}

function walk(root: string, dir: string, out: Map<string, string>): void {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) walk(root, abs, out);
    else if (TYPES[extname(name)]) out.set('/' + relative(root, abs).split('\\').join('/'), abs);
  }
}

/** Mounts `/` (index.html) and `/static/*` (the UI's files from `<package>/dist/web`, and plotly.min.js). */
export function webRoutes(app: FastifyInstance, packageRoot: string | null): void {
  const files = new Map<string, string>();
  const webRoot = packageRoot ? join(packageRoot, 'dist', 'web') : null;
  if (webRoot && existsSync(webRoot)) walk(webRoot, webRoot, files);
  try {
    const req = createRequire(join(packageRoot ?? process.cwd(), 'package.json'));
    files.set('/plotly.min.js', req.resolve('plotly.js-dist-min/plotly.min.js'));
  } catch {
    // Plotly missing: charts show their error; the rest of the UI works.
  }
  const cache = new Map<string, Buffer>();
  const read = (abs: string): Buffer => {
    let b = cache.get(abs);
    if (!b) cache.set(abs, (b = readFileSync(abs)));
    return b;
  };
  app.get('/', async (_req, reply) => {
    const index = files.get('/index.html');
    if (!index) {
      return reply
        .type('text/plain; charset=utf-8')
        .send(
          'The cellar web UI is not built: run `npm run build` in the cellar package. The API is at /api/.',
        );
    }
    return reply.type(TYPES['.html']!).header('cache-control', 'no-store').send(read(index));
  });
  app.get('/static/*', async (req, reply) => {
    const name = '/' + String((req.params as Record<string, string>)['*'] ?? '');
    const abs = files.get(name);
    if (!abs || name === '/index.html') {
      return reply
        .code(404)
        .type('application/json')
        .send({ error_code: 'NOT_FOUND', message: `No file ${name}.` });
    }
    return reply.type(TYPES[extname(abs)] ?? 'application/octet-stream').send(read(abs));
  });
}
