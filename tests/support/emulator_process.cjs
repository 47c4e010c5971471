'use strict';
// The auth0-emulator as a child process for the Node-side tests (flows_check.mjs, the
// @wfa/runner tests): started on a free loopback port with a seed, its ready line read,
// and its control API (/__emulator/...). CommonJS, so that both .mjs and .js tests load it.
const { spawn } = require('child_process');
const fs = require('fs');
const https = require('https');

// Starts the emulator; resolves to { proc, ready } once it printed its ready line
// ({ port, ca_file, ... }). It exits when its stdin closes (proc.stdin.end(), or our exit).
async function startEmulator(bin, seedFile, stateDir) {
  const proc = spawn(bin, ['--seed', seedFile, '--port', '0', '--state-dir', stateDir, '--exit-on-stdin-eof'],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
    setTimeout(() => reject(new Error('no ready line')), 30000).unref();  // never keeps node alive
  });
  return { proc, ready };
}

// The emulator's control API; resolves to the parsed answer. `body` (optional) is sent
// as JSON (fault rules, latency, rate limits).
function control(ready, method, what, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = https.request({ host: '127.0.0.1', port: ready.port, method, path: `/__emulator/${what}`,
      ca: fs.readFileSync(ready.ca_file),
      headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve(text ? JSON.parse(text) : null)
        : reject(new Error(`${method} ${what}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

module.exports = { startEmulator, control };
