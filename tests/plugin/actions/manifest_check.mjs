// Contract check of manifests/actions/*.json with ajv (JSON Schema 2020-12, strict mode):
// every schema compiles, sample options/inputs/configs are accepted or refused as the
// design says, and the outputs the built plugin really produced (written by
// `plugin_actions_tests -tc="outputs samples*"` into A0_SAMPLES_DIR) match the outputs schemas.
// usage: node manifest_check.mjs MANIFEST_DIR TEST_BINARY SAMPLES_DIR
import { createRequire } from 'module';
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import assert from 'assert/strict';

const [manifestDir, testBinary, samplesDir] = process.argv.slice(2);
const require = createRequire(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node/package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
// strictRequired off: `required` inside oneOf/not/anyOf branches names properties declared at the top.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
// Our annotations (flowrun reads them); declared so that strict mode accepts them.
ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
ajv.addKeyword({ keyword: 'x-env', schemaType: 'string' });
ajv.addKeyword({ keyword: 'x-dynamic-options', schemaType: 'object' });
ajv.addKeyword({ keyword: 'x-rerun-unsafe', schemaType: 'array' });

const manifests = {};
for (const f of fs.readdirSync(manifestDir).filter((f) => f.endsWith('.json'))) {
  const m = JSON.parse(fs.readFileSync(path.join(manifestDir, f), 'utf8'));
  assert.equal(`${m.id}.json`, f, 'file name = id');
  for (const key of ['id', 'version', 'title', 'description']) assert.equal(typeof m[key], 'string', key);
  assert.match(m.version, /^\d+\.\d+\.\d+$/);
  const v = {};
  for (const part of ['connection', 'options', 'inputs', 'outputs']) {
    assert.equal(m[part].$schema, 'https://json-schema.org/draft/2020-12/schema', `${f} ${part} $schema`);
    v[part] = ajv.compile(m[part]);
  }
  manifests[m.id] = v;
}
assert.deepEqual(Object.keys(manifests).sort(),
  ['auth0.export-users', 'auth0.get-user', 'auth0.link-account', 'auth0.unlink-account', 'auth0.update-user-metadata',
    'auth0.users-by-email']);

let checks = 0;
function expect(action, part, value, ok) {
  const valid = manifests[action][part](value);
  assert.equal(valid, ok, `${action} ${part} ${JSON.stringify(value)} -> ${JSON.stringify(manifests[action][part].errors)}`);
  ++checks;
}
const L = 'auth0.link-account';
// connection: domain + exactly one kind of credentials
expect(L, 'connection', { domain: 'x.eu.auth0.com', client_id: 'a', client_secret: 'b' }, true);
expect(L, 'connection', { domain: '127.0.0.1:8443', token: 't', ca_file: '/tmp/ca.pem', timeout_ms: 5000 }, true);
expect(L, 'connection', { domain: 'x.eu.auth0.com', client_id: 'a' }, false);
expect(L, 'connection', { domain: 'x.eu.auth0.com', client_id: 'a', client_secret: 'b', token: 't' }, false);
expect(L, 'connection', { client_id: 'a', client_secret: 'b' }, false);
expect(L, 'connection', { domain: 'https://x.eu.auth0.com', token: 't' }, false);
expect(L, 'connection', { domain: 'x', token: 't', max_retries: 11 }, false);
expect(L, 'connection', { domain: 'x', token: 't', unknown: 1 }, false);
// options
expect(L, 'options', { merge_metadata: true }, true);
expect(L, 'options', {}, false);
expect(L, 'options', { merge_metadata: 'true' }, false);
expect(L, 'options', { merge_metadata: true, arrays: 'union', merge_exclude: ['/app_metadata/roles'], dry_run: true }, true);
expect(L, 'options', { merge_metadata: true, arrays: 'zip' }, false);
expect(L, 'options', { merge_metadata: true, merge_exclude: ['/profile'] }, false);
// inputs
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'auth0|s' }, true);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'samlp|Conn|x' }, true);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'Conn|x', secondary_provider: 'samlp' }, true);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 's' }, false);  // provider not derivable
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'myspace|s' }, false);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 's', secondary_provider: 'myspace' }, false);
expect(L, 'inputs', { primary_user_id: 'p', secondary_user_id: 'auth0|s' }, false);
expect(L, 'inputs', { primary_user_id: 'auth0|p' }, false);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_token: 'a.b.c' }, true);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_token: 'a.b.c', secondary_user_id: 'auth0|s' }, false);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_token: 'a.b.c', secondary_connection_id: 'con_ftSSLHb0O7rcUGmF' }, false);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'auth0|s', secondary_connection_id: 'con_ftSSLHb0O7rcUGmF' }, true);
expect(L, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'auth0|s', secondary_connection_id: 'con_short' }, false);
expect('auth0.update-user-metadata', 'inputs', { user_id: 'auth0|p', user_metadata: { a: 1 } }, true);
expect('auth0.update-user-metadata', 'inputs', { user_id: 'auth0|p', user_metadata: {} }, false);
expect('auth0.update-user-metadata', 'inputs', { user_id: 'auth0|p', user_metadata: { 'a.b': 1 } }, false);
expect('auth0.unlink-account', 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'github|12' }, true);
expect('auth0.get-user', 'inputs', { user_id: 'auth0|p', fields: ['email', 'email'] }, false);
// Bounds on hostile sizes (issue 12): ids of 1,024 characters at most, 100 field names.
expect('auth0.get-user', 'inputs', { user_id: 'auth0|' + 'x'.repeat(1018) }, true);
expect('auth0.get-user', 'inputs', { user_id: 'auth0|' + 'x'.repeat(1019) }, false);
expect('auth0.get-user', 'inputs', { user_id: 'auth0|p', fields: Array.from({ length: 101 }, (_, i) => `f${i}`) }, false);
// user_id of get-user / update-user-metadata: a full id, as primary_user_id (never '.' or '..')
for (const action of ['auth0.get-user', 'auth0.update-user-metadata']) {
  const extra = action === 'auth0.get-user' ? {} : { user_metadata: { a: 1 } };
  expect(action, 'inputs', { user_id: 'samlp|Conn|x', ...extra }, true);
  for (const bad of ['.', '..', 'abc', '|x', 'auth0|', ''])
    expect(action, 'inputs', { user_id: bad, ...extra }, false);
}
// a secondary identity id of '.' or '..' (a dot segment in the unlink path) is refused
for (const action of [L, 'auth0.unlink-account']) {
  expect(action, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: '..', secondary_provider: 'auth0' }, false);
  expect(action, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'auth0|.' }, false);
  expect(action, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'Conn|..', secondary_provider: 'samlp' }, true);
  expect(action, 'inputs', { primary_user_id: 'auth0|p', secondary_user_id: 'auth0|.x' }, true);
}

// Issue 13: export-users and users-by-email.
const X = 'auth0.export-users';
expect(X, 'inputs', { output_file: '/tmp/users.ndjson.gz' }, true);
expect(X, 'inputs', { output_file: '/tmp/u.gz', connection_id: 'con_ftSSLHb0O7rcUGmF' }, true);
expect(X, 'inputs', { output_file: '/tmp/u.gz', connection_id: 'con_short' }, false);
expect(X, 'inputs', {}, false);
expect(X, 'options', { poll_interval_ms: 5 }, false);
expect(X, 'options', { extra_fields: ['identities[0].connection', 'user_metadata'] }, true);
expect(X, 'outputs', { file: '/tmp/u.gz', count: 3, job_id: 'job_x', bytes: 100 }, true);
const E = 'auth0.users-by-email';
expect(E, 'inputs', { email: 'jane.doe+x@example.com' }, true);
expect(E, 'inputs', { email: 'no-at-sign' }, false);
expect(E, 'inputs', { email: 'a b@example.com' }, false);
expect(E, 'outputs', { users: [{ user_id: 'auth0|x', email: 'a@b.c' }], count: 1 }, true);

// The dynamic field is marked as docs/abi.md §0.7 asks.
const link = JSON.parse(fs.readFileSync(path.join(manifestDir, `${L}.json`), 'utf8'));
assert.deepEqual(link.inputs.properties.secondary_connection_id['x-dynamic-options'],
  { depends_on: ['/connection/domain'], paged: true });

// Outputs really produced by the plugin.
if (testBinary) {
  fs.rmSync(samplesDir, { recursive: true, force: true });
  fs.mkdirSync(samplesDir, { recursive: true });
  // The samples include outputs with include_idp_tokens (the fake IdP tokens): removed
  // again once checked, so that no test leaves a secret behind (scripts/test scans).
  try {
    execFileSync(testBinary, ['-tc=outputs samples*'], { env: { ...process.env, A0_SAMPLES_DIR: samplesDir }, stdio: 'inherit' });
    const files = fs.readdirSync(samplesDir);
    assert.ok(files.length >= 5, `samples written: ${files}`);
    for (const f of files) {
      const action = f.replace(/--.*$/, '');
      expect(action, 'outputs', JSON.parse(fs.readFileSync(path.join(samplesDir, f), 'utf8')), true);
    }
  } finally {
    fs.rmSync(samplesDir, { recursive: true, force: true });
  }
}
console.log(`manifest check: ok (${checks} checks)`);
