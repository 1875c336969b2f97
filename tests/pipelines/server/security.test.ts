/**
 * `cellar up` security, against the real server in a child process: the token on every route but /health,
 * the login cookie from the printed URL, CSRF for cookie sessions, the Host allow list, CORS off by default,
 * artifact downloads that cannot leave the run's artifacts, the CSP, and the `{error_code, message}` shape.
 */
import { request } from 'node:http';
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { startUp, type UpProcess } from './up-process.js';

let up: UpProcess;
let dir: string;
let runId: string;

/** A raw HTTP request (fetch would normalise paths and refuse to set Host). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(up.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method, path, headers: { host: u.host, ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

beforeAll(async () => {
  dir = makeTmp();
  const store = openStore(dir);
  const run = await store.startRun({ experiment: 'sec', runName: '<script>alert(1)</script>' });
  await run.logText('hello', 'notes/readme.txt');
  await run.logText('<script>alert(1)</script>', 'page.html');
  runId = run.id;
  await run.end();
  closeAllEmbedded();
  up = await startUp(dir);
});
afterAll(async () => {
  await up?.stop();
  cleanupTmp();
});

const bearer = (): Record<string, string> => ({ authorization: `Bearer ${up.token}` });

test('the printed URL is on 127.0.0.1 and carries a long random token', () => {
  expect(up.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
});

test('/health needs no token; every other route does, with an {error_code, message} body', async () => {
  expect((await raw('GET', '/health')).status).toBe(200);
  for (const path of ['/api/experiments', '/api/openapi.json', '/', '/api/2.0/mlflow/experiments/list']) {
    const res = await raw('GET', path);
    expect(res.status).toBe(401);
    const body = JSON.parse(res.text) as { error_code: string; message: string };
    expect(body.error_code).toBe('UNAUTHENTICATED');
    expect(body.message).toMatch(/token/i);
  }
  expect((await raw('GET', '/api/experiments', { authorization: 'Bearer wrong' })).status).toBe(401);
  expect((await raw('GET', '/api/experiments', bearer())).status).toBe(200);
});

test('a Host header outside the allow list is refused (DNS rebinding)', async () => {
  const res = await raw('GET', '/api/experiments', { ...bearer(), host: 'attacker.example:80' });
  expect(res.status).toBe(403);
  expect(JSON.parse(res.text).error_code).toBe('PERMISSION_DENIED');
  const local = new URL(up.url);
  expect(
    (await raw('GET', '/api/experiments', { ...bearer(), host: `localhost:${local.port}` })).status,
  ).toBe(200);
});

test('opening the printed URL sets an HttpOnly SameSite cookie; state changes need the CSRF header', async () => {
  const login = await raw('GET', `/?token=${up.token}`);
  expect(login.status).toBe(303);
  expect(login.headers.location).toBe('/');
  const cookies = (login.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
  expect((login.headers['set-cookie'] as string[])[0]).toMatch(/HttpOnly; Path=\/; SameSite=Strict/);
  const cookie = cookies.join('; ');
  const csrf = cookies.find((c) => c.startsWith('cellar_csrf='))!.split('=')[1]!;
  expect((await raw('GET', '/api/experiments', { cookie })).status).toBe(200);
  const json = { 'content-type': 'application/json' };
  const body = JSON.stringify({ name: 'from-cookie' });
  const noCsrf = await raw('POST', '/api/experiments', { cookie, ...json }, body);
  expect(noCsrf.status).toBe(403);
  const wrongOrigin = await raw(
    'POST',
    '/api/experiments',
    { cookie, ...json, 'x-cellar-csrf': csrf, origin: 'http://evil.example' },
    body,
  );
  expect(wrongOrigin.status).toBe(403);
  const ok = await raw(
    'POST',
    '/api/experiments',
    { cookie, ...json, 'x-cellar-csrf': csrf, origin: up.url },
    body,
  );
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.text).experiment.name).toBe('from-cookie');
  expect((await raw('GET', '/?token=wrong')).status).toBe(401);
});

test('CORS is off unless an origin is allowed', async () => {
  const res = await raw('GET', '/api/experiments', { ...bearer(), origin: 'http://other.example' });
  expect(res.status).toBe(200);
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
});

test('every response carries a strict Content-Security-Policy', async () => {
  const res = await raw('GET', '/health');
  expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers['x-content-type-options']).toBe('nosniff');
});

test('artifact downloads stay inside the run: traversal, encoded dots, absolute paths and backslashes are refused', async () => {
  const ok = await raw('GET', `/api/runs/${runId}/artifacts/notes/readme.txt`, bearer());
  expect(ok.status).toBe(200);
  expect(ok.text).toBe('hello');
  expect(ok.headers['content-disposition']).toMatch(/attachment/);
  for (const evil of [
    'notes/../../../../etc/passwd',
    '%2e%2e/%2e%2e/etc/passwd',
    '%252e%252e/%252e%252e/etc/passwd',
    '%2Fetc%2Fpasswd',
    'notes%5c..%5c..%5cetc%5cpasswd',
    '..%2f..%2fcellar.db',
  ]) {
    const res = await raw('GET', `/api/runs/${runId}/artifacts/${evil}`, bearer());
    expect([400, 404]).toContain(res.status);
    expect(res.text).not.toMatch(/root:|SQLite/);
    expect(JSON.parse(res.text).error_code).toMatch(/INVALID_PATH|NOT_FOUND/);
  }
});

test('user content is never served as HTML', async () => {
  const res = await raw('GET', `/api/runs/${runId}/artifacts/page.html?preview=1`, bearer());
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(res.headers['content-security-policy']).toMatch(/sandbox/);
  const runJson = await raw('GET', `/api/runs/${runId}`, bearer());
  expect(runJson.headers['content-type']).toMatch(/^application\/json/);
});

test('bad input gives 400 with the field named; unknown ids 404; conflicts 409', async () => {
  const json = { ...bearer(), 'content-type': 'application/json' };
  const bad = await raw('POST', '/api/runs/search', json, JSON.stringify({ maxResults: 'many' }));
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.text)).toMatchObject({ error_code: 'INVALID_PARAMETER' });
  expect(JSON.parse(bad.text).message).toContain('maxResults');
  const filter = await raw('POST', '/api/runs/search', json, JSON.stringify({ filter: 'metrics.rmse <' }));
  expect(filter.status).toBe(400);
  expect(JSON.parse(filter.text).error_code).toBe('INVALID_FILTER');
  expect((await raw('GET', '/api/runs/0123456789abcdef0123456789abcdef', bearer())).status).toBe(404);
  const dup = await raw('POST', '/api/experiments', json, JSON.stringify({ name: 'sec' }));
  expect(dup.status).toBe(409);
  expect(JSON.parse(dup.text).error_code).toBe('ALREADY_EXISTS');
});

test('/api/openapi.json describes cellar and MLflow routes from the contract', async () => {
  const res = await raw('GET', '/api/openapi.json', bearer());
  const doc = JSON.parse(res.text) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.paths['/api/runs/search']?.post).toBeDefined();
  expect(doc.paths['/api/runs/{runId}/artifacts/{path}']?.get).toBeDefined();
  expect(doc.paths['/api/2.0/mlflow/runs/log-batch']?.post).toBeDefined();
  expect(doc.paths['/api/2.0/mlflow/registered-models/alias']?.get).toBeDefined();
  expect(Object.keys(doc.paths).length).toBeGreaterThan(60);
});
