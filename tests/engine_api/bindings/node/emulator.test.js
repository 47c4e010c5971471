'use strict';
// @wfa/runner with the real plugin against the auth0-emulator (demo seed): the lines equal
// flowrun's for the same rows, ok and failed; many rows at once; a link merges as under
// flowrun; no secret reaches a line or a log line.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startEmulator, control: emulatorControl } = require('../../../support/emulator_process.cjs');
const { runner, scratch, flowrunLines, nodeScript } = require('./common');
const { openFlow } = runner;

for (const v of ['WFA_AUTH0_PLUGIN', 'WFA_EMULATOR', 'WFA_EMULATOR_SEED', 'WFA_FLOWS_DIR']) {
  assert.ok(process.env[v], `${v} is not set (CTest sets it)`);
}
const seed = JSON.parse(fs.readFileSync(process.env.WFA_EMULATOR_SEED, 'utf8'));
const primary = seed.users.find((u) => u.user_id.startsWith('google-oauth2|')).user_id;
const secondary = seed.users.find((u) => u.user_id.startsWith('auth0|')).user_id;
const secret = seed.clients[0].client_secret;
const dir = scratch();
let emulator = null;
let ready = null;

before(async () => {
  ({ proc: emulator, ready } = await startEmulator(process.env.WFA_EMULATOR, process.env.WFA_EMULATOR_SEED,
    path.join(dir, 'emu')));
  // The runner fills the connection from the environment when the flow is opened (x-env);
  // flowrun, a child process, inherits the same.
  Object.assign(process.env, { AUTH0_DOMAIN: `127.0.0.1:${ready.port}`, AUTH0_CA_FILE: ready.ca_file,
    AUTH0_CLIENT_ID: seed.clients[0].client_id, AUTH0_CLIENT_SECRET: secret });
  delete process.env.AUTH0_TOKEN;
});
after(() => {
  emulator?.stdin.end();
});

const control = (method, what) => emulatorControl(ready, method, what);

// A copy of a bundled flow that names the plugin just built.
function bundled(name) {
  const f = JSON.parse(fs.readFileSync(path.join(process.env.WFA_FLOWS_DIR, `${name}.flow.json`), 'utf8'));
  for (const p of f.plugins) p.path = process.env.WFA_AUTH0_PLUGIN;
  const file = path.join(dir, `${name}.flow.json`);
  fs.writeFileSync(file, JSON.stringify(f));
  return file;
}

function getUserFlow() {
  const file = path.join(dir, 'get-user.flow.json');
  fs.writeFileSync(file, JSON.stringify({
    plugins: [{ id: 'auth0', path: process.env.WFA_AUTH0_PLUGIN }],
    connections: { tenant: { plugin: 'auth0', config: {} } },
    inputs: { user_id: { type: 'string' } },
    steps: [{ id: 'get', action: 'auth0.get-user', connection: 'tenant',
      inputs: { user_id: '${{ inputs.user_id }}', fields: ['user_id', 'email', 'user_metadata', 'app_metadata'] } }],
    outputs: { email: '${{ steps.get.outputs.user.email }}' },
  }));
  return file;
}

test('get-user rows, ok and failed: the lines equal flowrun\'s; no secret in a line or a log line', async () => {
  const file = getUserFlow();
  const rows = [{ user_id: primary }, { user_id: 'auth0|000000000000000000000000' }, { user_id: secondary },
    { user_id: 'no-pipe-here' }];
  const logs = [];
  const flow = openFlow(file, { logLevel: 'debug', onLog: (level, line) => logs.push(line) });
  try {
    const results = [];
    for (const [i, r] of rows.entries()) results.push(await flow.run(r, { row: i }));
    assert.deepEqual(results.map((r) => r.line), flowrunLines(file, rows, ['--concurrency', '1']));
    assert.deepEqual(results.map((r) => [r.status, r.code]),
      [['ok', 'ok'], ['failed', 'not_found'], ['ok', 'ok'], ['failed', 'invalid_input']]);
    assert.equal(JSON.parse(results[0].line).outputs.email, seed.users.find((u) => u.user_id === primary).email);
    assert.ok(logs.length > 0, 'debug lines came through onLog');
    for (const text of [...results.map((r) => r.line), ...logs]) assert.ok(!text.includes(secret), text);
  } finally {
    await flow.close();
  }
});

test('100 get-user rows at once over one instance: all ok', async () => {
  const flow = openFlow(getUserFlow());
  try {
    const results = await Promise.all(Array.from({ length: 100 },
      (_, i) => flow.run({ user_id: i % 2 ? primary : secondary }, { row: i })));
    for (const r of results) assert.equal(r.status, 'ok', r.line);
  } finally {
    await flow.close();
  }
});

test('link-with-merge through the binding merges as under flowrun', async () => {
  await control('POST', 'reset');
  const file = bundled('link-with-merge');
  const flow = openFlow(file);
  let ours;
  try {
    ours = await flow.run({ primary_user_id: primary, secondary_user_id: secondary }, { row: 0 });
  } finally {
    await flow.close();
  }
  await control('POST', 'reset');
  const [theirs] = flowrunLines(file, [{ primary_user_id: primary, secondary_user_id: secondary }]);
  const a = JSON.parse(ours.line);
  const b = JSON.parse(theirs);
  assert.equal(ours.status, 'ok', ours.line);
  assert.equal(a.outputs.metadata_patched, true);
  assert.equal(a.outputs.user_metadata.hobby, 'chess');
  assert.deepEqual(Object.keys(a.steps), Object.keys(b.steps));
  assert.deepEqual(a.outputs.merged_keys ?? null, b.outputs.merged_keys ?? null);
  assert.deepEqual(a.outputs.user_metadata, b.outputs.user_metadata);
  assert.deepEqual(a.outputs.app_metadata, b.outputs.app_metadata);
});

test('process.exit() with rows in flight on the real plugin: the flows are closed at exit, no crash', () => {
  // Without closing at exit, the plugin's threads raced the process's static destructors
  // (a segmentation fault in one run out of two to six).
  const file = getUserFlow();
  for (const ms of [5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150]) {
    const r = nodeScript(`const { openFlow } = require(process.env.WFA_PACKAGE_DIR);
      const flow = openFlow(${JSON.stringify(file)});
      for (let i = 0; i < 200; i++) flow.run({ user_id: ${JSON.stringify(primary)} });
      setTimeout(() => process.exit(7), ${ms});`);
    assert.equal(r.signal, null, `exit after ${ms} ms: killed by ${r.signal}\n${r.stderr}`);
    assert.equal(r.status, 7, `exit after ${ms} ms: status ${r.status}\n${r.stderr}`);
  }
});
