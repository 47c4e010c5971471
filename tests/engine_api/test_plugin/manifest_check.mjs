// The test plugin's manifests against JSON Schema 2020-12 (ajv, strict): each schema is
// valid against the meta-schema and compiles, and the schemas accept and refuse the same
// samples as the plugin's own checks (abi/execute_tests.cpp) and its outputs.
// usage: node manifest_check.mjs MANIFEST_DIR NODE_PACKAGE_JSON
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import assert from 'assert/strict';

const [dir, packageJson] = process.argv.slice(2);
const require = createRequire(path.resolve(packageJson));
const Ajv2020 = require('ajv/dist/2020').default;
const ajv = new Ajv2020({ strict: true, allErrors: true });
for (const [keyword, schemaType] of [['x-secret', 'boolean'], ['x-dynamic-options', 'object'], ['x-rerun-unsafe', 'array']])
  ajv.addKeyword({ keyword, schemaType });

const v = {};
for (const id of ['test.echo', 'test.delay', 'test.fail']) {
  const m = JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8'));
  assert.equal(m.id, id);
  for (const key of ['version', 'title', 'description']) assert.equal(typeof m[key], 'string', `${id} ${key}`);
  v[id] = {};
  for (const part of ['connection', 'options', 'inputs', 'outputs']) {
    assert.ok(ajv.validateSchema(m[part]), `${id} ${part}: ${ajv.errorsText(ajv.errors)}`);
    v[id][part] = ajv.compile(m[part]);
  }
}

let checks = 0;
function expect(id, part, value, ok) {
  assert.equal(v[id][part](value), ok, `${id} ${part} ${JSON.stringify(value)}: expected ${ok ? 'valid' : 'invalid'}`);
  ++checks;
}
for (const id of Object.keys(v)) {
  expect(id, 'connection', {}, true);
  expect(id, 'connection', { prefix: 'p-', token: 't', fail_create: false }, true);
  expect(id, 'connection', { prefix: 1 }, false);
  expect(id, 'connection', { token: '' }, false);
  expect(id, 'connection', { fail_create: 'yes' }, false);
  expect(id, 'connection', { domain: 'x' }, false);
}
expect('test.echo', 'options', {}, true);
expect('test.echo', 'options', { upper: true }, true);
expect('test.echo', 'options', { upper: 'yes' }, false);
for (const value of [null, 0, -1.5, 'x', [], {}, [1, { a: null }]]) expect('test.echo', 'inputs', { value }, true);
expect('test.echo', 'inputs', { value: 1, tag: 'a' }, true);
expect('test.echo', 'inputs', {}, false);
expect('test.echo', 'inputs', { value: 1, x: 2 }, false);
expect('test.echo', 'inputs', { value: 1, tag: 3 }, false);
expect('test.echo', 'inputs', { value: 1, id: 'auth0|x', names: ['a', 'b'] }, true);
expect('test.echo', 'inputs', { value: 1, id: 'x' }, false);
expect('test.echo', 'inputs', { value: 1, id: 'auth0|' + 'x'.repeat(1024) }, false);
expect('test.echo', 'inputs', { value: 1, names: ['a', 'a'] }, false);
expect('test.echo', 'outputs', { value: { a: [1] }, prefix: '', n: 1 }, true);
expect('test.echo', 'outputs', { value: 'A', prefix: 'p-', n: 7, tag: 'a' }, true);
expect('test.echo', 'outputs', { value: 1, prefix: '' }, false);

expect('test.delay', 'options', {}, true);
expect('test.delay', 'options', { x: 1 }, false);
for (const ms of [0, 2.0, 600000]) expect('test.delay', 'inputs', { ms }, true);
for (const ms of [-1, 600001, 1.5, '10']) expect('test.delay', 'inputs', { ms }, false);
expect('test.delay', 'inputs', { ms: 1, value: [1] }, true);
expect('test.delay', 'inputs', {}, false);
expect('test.delay', 'outputs', { slept_ms: 2, value: [1] }, true);
expect('test.delay', 'outputs', { slept_ms: 0 }, true);

const codes = ['invalid_input', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'rate_limited',
  'unavailable', 'timeout', 'cancelled', 'internal'];
for (const code of codes) expect('test.fail', 'inputs', { code, message: 'm', http_status: 409, details: { n: 1 } }, true);
for (const code of ['teapot', 'ok', 'incompatible']) expect('test.fail', 'inputs', { code, message: 'm' }, false);
expect('test.fail', 'inputs', { code: 'conflict' }, false);
expect('test.fail', 'inputs', { code: 'conflict', message: 'm', http_status: 99 }, false);
expect('test.fail', 'inputs', { code: 'conflict', message: 'm', details: [] }, false);
expect('test.fail', 'inputs', { code: 'rate_limited', message: 'm', failures: 1 }, true);
expect('test.fail', 'inputs', { code: 'rate_limited', message: 'm', failures: 0 }, false);

console.log(`test plugin manifests: 12 schemas valid, ${checks} samples as expected`);
