'use strict';
// wfa-queue with the runner: bad input refused before anything is queued, failed rows
// (retried per `retryable`, or to the failed set with their line), the queue-wide pause
// on rate_limited, SIGTERM with rows in flight, a worker without Redis.
// env: A0_EMULATOR, A0_PLUGIN, A0_FLOWS_DIR, A0_DEMO_SEED (CMake sets them).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { PACKAGE, startRedis, startEmulator, freePort, tmpDir, wfaQueue, spawnWfaQueue, waitFor, sleep } =
  require('./fixtures');
const { buildSeed, flowCopy, auth0Env } = require('./tenant');

const IORedis = require(path.join(PACKAGE, 'node_modules/ioredis'));
const { Queue } = require(path.join(PACKAGE, 'node_modules/bullmq'));
const env = process.env;

let work;
let redis;
let emu;
let seed;
let qenv;
let flow;
let client;
test.before(async () => {
  work = tmpDir('worker');
  seed = buildSeed(env.A0_DEMO_SEED, { pairs: 40, clusters: 0 });
  const seedFile = path.join(work, 'seed.json');
  fs.writeFileSync(seedFile, JSON.stringify(seed));
  redis = await startRedis();
  emu = await startEmulator(env.A0_EMULATOR, seedFile);
  qenv = auth0Env(emu, seed);
  // No retries inside the plugin, and a short own wait for 429s: the queue's share shows.
  flow = flowCopy(path.join(env.A0_FLOWS_DIR, 'link-pairs.flow.json'), env.A0_PLUGIN, work,
    { max_retries: 0, max_backoff_ms: 500 });
  client = new IORedis(redis.url);
});
test.after(async () => {
  client.disconnect();
  await Promise.all([redis.stop(), emu.stop()]);
  fs.rmSync(work, { recursive: true, force: true });
});

const rowsFile = (name, rows) => {
  const f = path.join(work, name);
  fs.writeFileSync(f, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return f;
};
const pair = (i) => ({ primary_user_id: `auth0|p${i}`, secondary_user_id: `auth0|s${i}` });
const keysOfQueue = async (name) => client.keys(`wfa:${name}:*`);
const counts = async (name) => {
  const q = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'wfa' });
  try {
    return await q.getJobCounts('wait', 'delayed', 'active', 'completed', 'failed');
  } finally {
    await q.close();
  }
};
const args = (name) => ['--redis', redis.url, '--queue', name];
function startWorker(name, extra = []) {
  return spawnWfaQueue(['worker', flow, ...args(name), '--lease-ms', '2000', ...extra], qenv);
}
async function stopWorker(w) {
  w.child.kill('SIGTERM');
  const { code } = await w.exited;
  assert.equal(code, 0, w.stderr);
  assert.doesNotMatch(w.stderr, /\n\s+at /, `a stack trace: ${w.stderr}`);
}

test('a flow that fails validation is refused at enqueue: nothing queued', () => {
  const bad = flowCopy(path.join(env.A0_FLOWS_DIR, 'link-pairs.flow.json'), env.A0_PLUGIN,
    fs.mkdtempSync(path.join(work, 'badflow-')), {},
    (f) => {
      f.steps[0].options.arrays = 'sometimes';
      return f;
    });
  const r = wfaQueue(['enqueue', bad, '--inputs-file', rowsFile('ok.jsonl', [pair(0)]), ...args('badflow')], qenv);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /link-pairs\.flow\.json: [\s\S]*arrays/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  return keysOfQueue('badflow').then((k) => assert.deepEqual(k, []));
});

test('a malformed row or one the flow refuses is named by its line: nothing queued', async () => {
  const f = rowsFile('bad.jsonl', [pair(0), '', '{"primary_user_id": "auth0|p1",', pair(2),
    { primary_user_id: 'auth0|p3', secondry_user_id: 'auth0|s3' }, { primary_user_id: 'auth0|p4', secondary_user_id: 7 }]);
  const r = wfaQueue(['enqueue', flow, '--inputs-file', f, ...args('badrows')], qenv);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.jsonl:3: expected one JSON object per line/);
  assert.match(r.stderr, /bad\.jsonl:5: .*secondry_user_id/);
  assert.match(r.stderr, /bad\.jsonl:6: .*secondary_user_id/);
  assert.match(r.stderr, /3 bad rows in .*bad\.jsonl: nothing queued/);
  assert.doesNotMatch(r.stderr, /bad\.jsonl:[124]:/);
  assert.deepEqual(await keysOfQueue('badrows'), []);
});

test('Redis unreachable: enqueue gives up with a clear message; a worker waits for it, then runs', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const rows = rowsFile('late.jsonl', [pair(30), pair(31)]);
  const e = wfaQueue(['enqueue', flow, '--inputs-file', rows, '--redis', url, '--connect-timeout', '1'], qenv);
  assert.equal(e.status, 1, e.stderr);
  assert.match(e.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(ECONNREFUSED\); gave up after 1 s/);
  assert.doesNotMatch(e.stderr, /\n\s+at /);

  const w = spawnWfaQueue(['worker', flow, '--redis', url, '--queue', 'late'], qenv);
  await waitFor('the message', () => /unreachable \(ECONNREFUSED\); retrying/.test(w.stderr), 15000);
  await sleep(2500);
  assert.equal(w.child.exitCode, null, `the worker exited: ${w.stderr}`);
  assert.ok(w.stderr.split('\n').filter((l) => l.includes('unreachable')).length <= 2, w.stderr);  // no flood
  const late = await startRedis({ port });
  try {
    const r = wfaQueue(['enqueue', flow, '--inputs-file', rows, '--redis', url, '--queue', 'late'], qenv);
    assert.equal(r.status, 0, r.stderr);
    const lc = new Queue('late', { connection: { host: '127.0.0.1', port }, prefix: 'wfa' });
    await waitFor('the rows', async () => (await lc.getJobCounts('completed')).completed === 2, 30000);
    await lc.close();
    assert.match(w.stderr, /reachable again/);
    await stopWorker(w);
  } finally {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await late.stop();
  }
});

test('failed rows: retryable ones retried with backoff, the others failed with their line', async () => {
  // The first read of p10 answers 503 (retryable): BullMQ runs the row again. p11's
  // secondary does not exist: not_found, not retryable, to the failed set at once.
  const fault = await emu.control('POST', 'faults',
    { method: 'GET', path: '/api/v2/users/auth0|p10', action: 'status', status: 503, times: 1 });
  const f = rowsFile('fail.jsonl', [pair(10), { primary_user_id: 'auth0|p11', secondary_user_id: 'auth0|nobody' }]);
  const e = wfaQueue(['enqueue', flow, '--inputs-file', f, ...args('fail'), '--backoff-ms', '200'], qenv);
  assert.equal(e.status, 0, e.stderr);
  const w = startWorker('fail');
  try {
    await waitFor('both rows', async () => {
      const c = await counts('fail');
      return c.completed === 1 && c.failed === 1;
    });
  } finally {
    await stopWorker(w);
    await emu.control('DELETE', `faults/${fault.id}`);
  }
  const q = new Queue('fail', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'wfa' });
  const [done] = await q.getJobs(['completed']);
  const [failed] = await q.getJobs(['failed']);
  await q.close();
  assert.equal(done.data.row, 0);
  assert.equal(done.attemptsMade, 2, 'the retryable row ran twice');
  assert.equal(failed.data.row, 1);
  assert.equal(failed.attemptsMade, 1, 'the other ran once');
  assert.equal(JSON.parse(failed.failedReason).status, 'failed');
  const r = wfaQueue(['results', ...args('fail')]);
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.row, l.status]), [[0, 'ok'], [1, 'failed']]);
  assert.equal(lines[1].steps.link.error.code, 'not_found');
  assert.equal(r.stdout.trim().split('\n')[1], failed.failedReason);
});

test('rate_limited with Retry-After pauses every worker for that long, then the row runs', async () => {
  const rows = [12, 13, 14, 15, 16, 17, 18, 19].map(pair);
  const f = rowsFile('rl.jsonl', rows);
  const e = wfaQueue(['enqueue', flow, '--inputs-file', f, ...args('rl')], qenv);
  assert.equal(e.status, 0, e.stderr);
  // The first PATCH is the limiter's 429 asking for 2 s (longer than the plugin's own
  // max_backoff_ms of 500): the row fails rate_limited with retry_after_s 2.
  const fault = await emu.control('POST', 'faults',
    { method: 'PATCH', path: '/api/v2/users/*', action: 'rate_limit', reset_in_s: 2, retry_after_s: 2, times: 1 });
  await emu.control('PUT', 'latency', { ms: 30 });
  await emu.control('DELETE', 'counters');
  await emu.control('DELETE', 'log');
  const ws = [startWorker('rl', ['--concurrency', '2', '--budget', '200']),
    startWorker('rl', ['--concurrency', '2', '--budget', '200'])];
  try {
    const hit = await waitFor('the 429', async () => {
      const c = await emu.control('GET', 'counters');
      return c.faults_fired > 0 && { at: Date.now(), requests: c.requests };
    }, 30000, 20);
    // Rows that started before the pause took hold (the 429 has to come back first) may
    // still finish; from half a second on no row starts (a row starts with two GETs)
    // until the 2 s have passed. (Requests of rows in flight wait in the shared budget,
    // which the pause empties, once the plugin asks it: unit.test.js checks the bucket.)
    await sleep(500 - (Date.now() - hit.at));
    const a = (await emu.control('GET', 'log')).length;
    await sleep(1000);
    const during = (await emu.control('GET', 'log')).slice(a);
    assert.deepEqual(during.filter((r) => r.method === 'GET'), [], 'rows started during the pause');
    await waitFor('every row', async () => (await counts('rl')).completed === rows.length, 30000);
    assert.ok(Date.now() - hit.at >= 1900);
    assert.ok(ws.some((w) => /rate limited; every worker pauses 2 s/.test(w.stderr)));
  } finally {
    await emu.control('PUT', 'latency', { ms: 0 });
    await emu.control('DELETE', `faults/${fault.id}`);
    for (const w of ws) await stopWorker(w);
  }
  const r = wfaQueue(['results', ...args('rl')]);
  assert.equal(r.status, 0, r.stdout);
  assert.equal(r.stdout.trim().split('\n').length, rows.length);
});

test('SIGTERM with rows in flight: they are cancelled after --grace, exit 0, another worker runs them', async () => {
  const rows = [20, 21, 22, 23].map(pair);
  const f = rowsFile('term.jsonl', rows);
  const e = wfaQueue(['enqueue', flow, '--inputs-file', f, ...args('term')], qenv);
  assert.equal(e.status, 0, e.stderr);
  await emu.control('PUT', 'latency', { ms: 1500 });
  const first = startWorker('term', ['--concurrency', '4', '--grace', '0.2']);
  try {
    await waitFor('rows in flight', async () => (await counts('term')).active === 4, 20000, 50);
    await sleep(300);
    const t0 = Date.now();
    first.child.kill('SIGTERM');
    const { code } = await first.exited;
    assert.equal(code, 0, first.stderr);
    assert.ok(Date.now() - t0 < 1500, 'it waited for the rows instead of cancelling them');
    assert.match(first.stderr, /SIGTERM: taking no more rows; 4 in flight/);
    assert.equal((await counts('term')).completed, 0);
  } finally {
    await emu.control('PUT', 'latency', { ms: 0 });
  }
  const second = startWorker('term');
  try {
    await waitFor('the rows', async () => (await counts('term')).completed === rows.length, 30000);
  } finally {
    await stopWorker(second);
  }
  const r = wfaQueue(['results', ...args('term')]);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).status), ['ok', 'ok', 'ok', 'ok']);
});

test('SIGTERM with rows in flight and time enough: they finish, then exit 0', async () => {
  const rows = [24, 25, 26].map(pair);
  const e = wfaQueue(['enqueue', flow, '--inputs-file', rowsFile('drain.jsonl', rows), ...args('drain')], qenv);
  assert.equal(e.status, 0, e.stderr);
  await emu.control('PUT', 'latency', { ms: 300 });
  const w = startWorker('drain', ['--concurrency', '3', '--grace', '30']);
  try {
    await waitFor('rows in flight', async () => (await counts('drain')).active === 3, 20000, 50);
    w.child.kill('SIGTERM');
    const { code } = await w.exited;
    assert.equal(code, 0, w.stderr);
  } finally {
    await emu.control('PUT', 'latency', { ms: 0 });
  }
  assert.deepEqual(await counts('drain'), { wait: 0, delayed: 0, active: 0, completed: 3, failed: 0 });
});
