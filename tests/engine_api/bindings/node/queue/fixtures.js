'use strict';
// Test fixtures for wfa-queue: a Redis server and the Auth0 emulator, each a child
// process on a free loopback port, stopped by its PID.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const emulatorProcess = require('../../../../support/emulator_process.cjs');

const PACKAGE = path.resolve(__dirname, '../../../../../engine_api/bindings/node');
const WFA_QUEUE = path.join(PACKAGE, 'bin/wfa-queue');

// A port nobody listens on now (the kernel's choice of a free one).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const tmpDir = (what) => fs.mkdtempSync(path.join(os.tmpdir(), `wfa-queue-${what}-`));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// redis-server on 127.0.0.1, no persistence (nothing written: --save '' --appendonly no).
async function startRedis({ port } = {}) {
  const exe = process.env.A0_REDIS_SERVER || 'redis-server';
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = port ?? (await freePort());
    const dir = tmpDir('redis');
    const child = spawn(exe, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    // Ready when it accepts a connection (or it exited: the port was taken meanwhile).
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      const up = await new Promise((r) => {
        const c = net.connect(p, '127.0.0.1', () => { c.end(); r(true); });
        c.on('error', () => r(false));
      });
      if (up) {
        return {
          port: p,
          url: `redis://127.0.0.1:${p}`,
          pid: child.pid,
          async stop() {
            if (child.exitCode === null) {
              process.kill(child.pid, 'SIGTERM');
              await exited;
            }
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    if (port !== undefined) throw new Error(`redis-server did not start on ${port}: ${out}`);
  }
  throw new Error('redis-server did not start');
}

// The Auth0 emulator (its executable) on a seed file (tests/support/emulator_process.cjs):
// port, CA, control(method, what, body), stop() (by its PID).
async function startEmulator(exe, seedFile) {
  const dir = tmpDir('emu');
  const { proc, ready } = await emulatorProcess.startEmulator(exe, seedFile, dir);
  const exited = new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
  return {
    port: ready.port,
    caFile: ready.ca_file,
    domain: `127.0.0.1:${ready.port}`,
    control: (method, what, body) => emulatorProcess.control(ready, method, what, body),
    async stop() {
      if (proc.exitCode === null) {
        proc.stdin.end();
        process.kill(proc.pid, 'SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Runs wfa-queue to its end: {status, stdout, stderr}.
function wfaQueue(args, env = process.env) {
  return spawnSync(process.execPath, [WFA_QUEUE, ...args], { env, encoding: 'utf8', timeout: 120000 });
}

// Starts wfa-queue (a worker) in the background; lines of stderr are kept in .log.
function spawnWfaQueue(args, env = process.env) {
  const child = spawn(process.execPath, [WFA_QUEUE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', (code, sig) => r({ code, sig }))) };
  child.stdout.on('data', (d) => { proc.stdout += d; });
  child.stderr.on('data', (d) => { proc.stderr += d; });
  return proc;
}

async function waitFor(what, cond, timeoutMs = 30000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

module.exports = { PACKAGE, WFA_QUEUE, freePort, tmpDir, sleep, startRedis, startEmulator, wfaQueue, spawnWfaQueue, waitFor };
