// End to end: flowrun runs manifests/flows/*.flow.json with the built plugin against the
// auth0-emulator (demo seed). Checks the merge happened in one flow and not in the other,
// that unlink and the dynamic options work, and that no secret reaches flowrun's output.
// usage: node flows_check.mjs FLOWRUN PLUGIN_SO EMULATOR SEED FLOWS_DIR
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import assert from 'assert/strict';
import emulatorProcess from '../../support/emulator_process.cjs';

const { startEmulator, control: emulatorControl } = emulatorProcess;
const [flowrun, plugin, emulatorBin, seedFile, flowsDir] = process.argv.slice(2);
const seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
const primary = seed.users.find((u) => u.user_id.startsWith('google-oauth2|')).user_id;
const secondary = seed.users.find((u) => u.user_id.startsWith('auth0|')).user_id;
const secrets = [seed.clients[0].client_secret, 'demo-google-idp-access-token'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'a0-flows-'));

const { proc: emu, ready } = await startEmulator(emulatorBin, seedFile, path.join(work, 'emu'));
const env = { ...process.env, AUTH0_DOMAIN: `127.0.0.1:${ready.port}`, AUTH0_CA_FILE: ready.ca_file,
  AUTH0_CLIENT_ID: seed.clients[0].client_id, AUTH0_CLIENT_SECRET: seed.clients[0].client_secret };
delete env.AUTH0_TOKEN;

function flow(name, edit = (f) => f, as = name) {  // a copy that names the plugin just built
  const f = edit(JSON.parse(fs.readFileSync(path.join(flowsDir, `${name}.flow.json`), 'utf8')));
  for (const p of f.plugins) p.path = plugin;
  const file = path.join(work, `${as}.flow.json`);
  fs.writeFileSync(file, JSON.stringify(f, null, 2));
  return file;
}
function flowrunCmd(args) {
  const r = spawnSync(flowrun, args, { env, encoding: 'utf8' });
  for (const s of secrets) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `secret in flowrun output: ${args.join(' ')}`);
  }
  return r;
}
function run(name, file = flow(name)) {
  const r = flowrunCmd(['run', file, '--input', `primary_user_id=${primary}`, '--input', `secondary_user_id=${secondary}`]);
  assert.equal(r.status, 0, `${name}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  const rows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(rows.length, 1);
  return rows[0];
}
// Every object in a JSON document that has `key` (the result's exact nesting is flowrun's).
function findAll(v, key, out = []) {
  if (v && typeof v === 'object') {
    if (!Array.isArray(v) && key in v) out.push(v[key]);
    for (const c of Object.values(v)) findAll(c, key, out);
  }
  return out;
}
const control = (method, what) => emulatorControl(ready, method, what);
const reset = () => control('POST', 'reset');

try {
  for (const name of ['link-with-merge', 'link-without-merge', 'unlink', 'link-pairs']) {
    const v = flowrunCmd(['validate', flow(name)]);
    assert.equal(v.status, 0, `validate ${name}: ${v.stdout}${v.stderr}`);
  }
  const d = flowrunCmd(['describe', plugin]);
  assert.equal(d.status, 0, d.stderr);
  assert.ok(d.stdout.includes('auth0.link-account'));

  // The flow's outputs hold the primary as read back after the link; the result line
  // also carries every step's outputs (the runner contract), the secondary's GET included.
  const merged = run('link-with-merge');
  assert.equal(merged.outputs.metadata_patched, true, JSON.stringify(merged));
  assert.ok(merged.outputs.user_metadata.hobby === 'chess' && merged.outputs.user_metadata.color === 'red',
    `merged metadata expected: ${JSON.stringify(merged)}`);
  assert.equal(merged.outputs.profiles.length, 2);
  assert.deepEqual(Object.keys(merged.steps), ['primary', 'secondary', 'link', 'after']);
  assert.equal(merged.steps.link.outputs.metadata_patched, true);

  // With include_idp_tokens the IdP tokens are real outputs (for later steps), which the
  // manifests mark x-secret: flowrun prints them as *** (flowrunCmd checks that the seed's
  // token appears nowhere in its output).
  await reset();
  const withTokens = run('link-with-merge', flow('link-with-merge', (f) => {
    f.steps.find((s) => s.id === 'link').options.include_idp_tokens = true;
    return f;
  }, 'link-with-tokens'));
  const google = withTokens.steps.link.outputs.profiles.find((p) => p.provider === 'google-oauth2');
  assert.equal(google.access_token, '***', JSON.stringify(withTokens.steps.link.outputs));
  assert.equal(withTokens.outputs.profiles.find((p) => p.provider === 'google-oauth2').access_token, '***');
  assert.equal(google.user_id, primary.split('|')[1]);  // the rest of the profile is shown

  const unlinked = run('unlink');
  assert.ok(findAll(unlinked, 'profiles').some((p) => Array.isArray(p) && p.length === 1));

  await reset();
  const plain = run('link-without-merge');
  assert.equal(plain.outputs.metadata_patched, false);
  assert.ok(!plain.outputs.user_metadata || plain.outputs.user_metadata.hobby === undefined,
    `no merge expected: ${JSON.stringify(plain)}`);
  assert.equal(plain.steps.secondary.outputs.user.user_metadata.hobby, 'chess');  // what Auth0 then discarded

  // Bad input through flowrun: a clear invalid_input for the step, and not one request
  // (not even a token) reaches the tenant.
  // (The bad value goes to each flow's first step: later steps start only after earlier ones.)
  for (const [file, name, input] of [['link-with-merge', 'primary_user_id', '..'], ['unlink', 'secondary_user_id', 'auth0|..']]) {
    await control('DELETE', 'log');
    const args = { primary_user_id: primary, secondary_user_id: secondary, [name]: input };
    const bad = flowrunCmd(['run', flow(file), '--input', `primary_user_id=${args.primary_user_id}`,
      '--input', `secondary_user_id=${args.secondary_user_id}`]);
    assert.notEqual(bad.status, 0, bad.stdout);
    const errors = findAll(JSON.parse(bad.stdout.split('\n').filter(Boolean)[0]), 'error');
    assert.ok(errors.some((e) => e.code === 'invalid_input' && e.message.includes('user_id') && !e.retryable),
      `invalid_input expected: ${bad.stdout}`);
    assert.deepEqual(await control('GET', 'log'), [], `${file} ${name}=${input}: requests reached the tenant`);
  }

  // link-pairs (the dedup's third step) over a pairs file: --input dry_run=true writes
  // nothing; then the real run, journaled; the same command again skips the pair.
  await reset();
  const pairs = path.join(work, 'pairs.jsonl');
  fs.writeFileSync(pairs, JSON.stringify({ primary_user_id: primary, secondary_user_id: secondary }) + '\n');
  await control('DELETE', 'log');
  const review = flowrunCmd(['run', flow('link-pairs'), '--inputs-file', pairs, '--input', 'dry_run=true']);
  assert.equal(review.status, 0, review.stdout + review.stderr);
  assert.deepEqual(JSON.parse(review.stdout).outputs.merged_keys.includes('/user_metadata/hobby'), true, review.stdout);
  assert.ok((await control('GET', 'log')).every((r) => r.method === 'GET' || r.path.startsWith('/oauth/')),
    'dry_run wrote');
  const journal = path.join(work, 'link.journal');
  const linked = flowrunCmd(['run', flow('link-pairs'), '--inputs-file', pairs, '--journal', journal]);
  assert.equal(linked.status, 0, linked.stdout + linked.stderr);
  assert.equal(JSON.parse(linked.stdout).outputs.metadata_patched, true, linked.stdout);
  const again = flowrunCmd(['run', flow('link-pairs'), '--inputs-file', pairs, '--journal', journal]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, '', 'a journaled pair ran again');
  assert.ok(again.stderr.includes('"skipped":1'), again.stderr);

  const o = flowrunCmd(['options', flow('link-with-merge'), 'link', '/inputs/secondary_connection_id']);
  assert.equal(o.status, 0, o.stderr);
  assert.ok(o.stdout.includes('con_DemoDatabase0001'), o.stdout);
  console.log('flows check: ok');
} finally {
  emu.kill();
  fs.rmSync(work, { recursive: true, force: true });
}
