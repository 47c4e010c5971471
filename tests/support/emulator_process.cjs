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

// The emulator's control API; resolves to the parsed answer.
function control(ready, method, what) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: ready.port, method, path: `/__emulator/${what}`,
      ca: fs.readFileSync(ready.ca_file) }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${what} ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

module.exports = { startEmulator, control };
