'use strict';
// Shared by the @wfa/runner tests: the package from the source tree (its addon named by
// WFA_RUNNER_ADDON, set by CTest), flows over the test plugin, flowrun as a subprocess.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

for (const v of ['WFA_RUNNER_ADDON', 'WFA_TEST_PLUGIN', 'WFA_FLOWRUN']) {
  assert.ok(process.env[v], `${v} is not set (CTest sets it: ctest -R engine_api_node)`);
}
const packageDir = path.resolve(__dirname, '..', '..', '..', '..', 'engine_api', 'bindings', 'node');
const runner = require(packageDir);
const native = require(process.env.WFA_RUNNER_ADDON);

// A scratch folder, removed when the process exits.
function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wfa-node-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A flow file over the test plugin: `body` holds inputs/steps/outputs (and connections).
function writeFlow(dir, body, name = 'f.flow.json') {
  const f = { ...body, plugins: [{ id: 't', path: process.env.WFA_TEST_PLUGIN }] };
  if (!f.connections) f.connections = { local: { plugin: 't' } };
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(f));
  return file;
}

// flowrun run FLOW over rows fed through a pipe (a bad row is a failed row, as in the binding).
function flowrunLines(flow, rows, args = []) {
  // Node's `input` is a socket, which flowrun refuses: bash's process substitution is a pipe.
  const r = spawnSync('bash', ['-c', '"$0" run "$1" --inputs-file <(cat) "${@:2}"', process.env.WFA_FLOWRUN, flow, ...args],
    { input: rows.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') + '\n', encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `flowrun exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

// A node script as a child process (stdout, stderr, exit status, how long it took).
function nodeScript(source, args = [], timeoutMs = 30000) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [...args, '-e', source],
    { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, WFA_PACKAGE_DIR: packageDir } });
  return { ...r, ms: Date.now() - started };
}

module.exports = { runner, native, scratch, writeFlow, flowrunLines, nodeScript, packageDir };
