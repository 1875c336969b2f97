/** Worker start-up: a system CA bundle in NODE_EXTRA_CA_CERTS is loaded lazily through OpenSSL instead. */
import { execFileSync } from 'node:child_process';
import { lazyCaEnv } from '../../../pipelines/runner/worker-handle.js';

test('the system bundle moves to SSL_CERT_FILE with --use-openssl-ca; anything else is left alone', () => {
  const sys = '/etc/ssl/certs/ca-certificates.crt';
  const converted = lazyCaEnv({ PATH: '/bin', NODE_EXTRA_CA_CERTS: sys });
  expect(converted.execArgv).toEqual(['--use-openssl-ca']);
  expect(converted.env).toEqual({ PATH: '/bin', SSL_CERT_FILE: sys });
  const corporate = { NODE_EXTRA_CA_CERTS: '/opt/corp/ca.pem' };
  expect(lazyCaEnv(corporate)).toEqual({ env: corporate, execArgv: [] });
  const conflicting = { NODE_EXTRA_CA_CERTS: sys, SSL_CERT_FILE: '/other.pem' };
  expect(lazyCaEnv(conflicting)).toEqual({ env: conflicting, execArgv: [] });
  expect(lazyCaEnv({})).toEqual({ env: {}, execArgv: [] });
});

test('a node started that way still trusts the bundle (OpenSSL reads it when TLS is first used)', () => {
  const { env, execArgv } = lazyCaEnv({
    ...process.env,
    NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
  });
  const out = execFileSync(
    process.execPath,
    [
      ...execArgv,
      '-e',
      "const tls=require('tls'); const c=tls.createSecureContext(); console.log(typeof c.context)",
    ],
    { env, encoding: 'utf8' },
  );
  expect(out.trim()).toBe('object');
});
