'use strict';
// wfa-queue's parts against a real redis-server (no runner needed): job ids, the shared
// token bucket, row locks, the recorded results, status and results, and the errors of
// the one-shot commands.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { PACKAGE, startRedis, freePort, tmpDir, wfaQueue, sleep } = require('./fixtures');

const req = (m) => require(path.join(PACKAGE, 'lib/queue', m));
const IORedis = require(path.join(PACKAGE, 'node_modules/ioredis'));
const { Queue } = require(path.join(PACKAGE, 'node_modules/bullmq'));
const { canonicalJson, jobId } = req('canon');
const { SharedBudget } = req('budget');
const { RowLock, lockHash } = req('lock');
const { keysOf, PREFIX } = req('keys');
const { record } = req('results');

let redis;
let client;
test.before(async () => {
  redis = await startRedis();
  client = new IORedis(redis.url);
});
test.after(async () => {
  client.disconnect();
  await redis.stop();
});

test('job ids: canonical JSON, the same for reordered keys, no colon', () => {
  assert.equal(canonicalJson({ b: [2, { y: 1, x: 'é' }], a: null }), '{"a":null,"b":[2,{"x":"é","y":1}]}');
  const a = jobId({ primary_user_id: 'auth0|p1', secondary_user_id: 'auth0|s1' });
  assert.equal(a, jobId({ secondary_user_id: 'auth0|s1', primary_user_id: 'auth0|p1' }));
  assert.notEqual(a, jobId({ primary_user_id: 'auth0|p1', secondary_user_id: 'auth0|s2' }));
  assert.match(a, /^[0-9a-f]{32}$/);
});

test('the shared bucket grants its rate and burst, no more, across clients', async () => {
  const key = 'test:budget:rate';
  const other = new IORedis(redis.url);
  try {
    const rate = 50;
    const budgets = [new SharedBudget(client, key, rate), new SharedBudget(other, key, rate)];
    const start = Date.now();
    let granted = 0;
    let i = 0;
    while (Date.now() - start < 1000) {
      granted += (await budgets[i++ % 2].take(3)).granted;
      await sleep(2);
    }
    const elapsedS = (Date.now() - start) / 1000;
    const most = rate * elapsedS + rate / 2;  // the refill plus the initial burst (half a second)
    assert.ok(granted <= Math.ceil(most) + 1, `granted ${granted} > ${most}`);
    assert.ok(granted >= most * 0.9, `granted ${granted}, expected about ${most}`);
    // Empty now: the answer says how long until the next token.
    const { granted: g, waitMs } = await budgets[0].take(50);
    assert.ok(g <= 2 && waitMs > 0 && waitMs <= 1000 / rate + 1, `${g} ${waitMs}`);
  } finally {
    other.disconnect();
  }
});

test('a pause empties the bucket for that long', async () => {
  const b = new SharedBudget(client, 'test:budget:pause', 100);
  assert.ok((await b.take(10)).granted === 10);
  await b.pause(400);
  const t0 = Date.now();
  let got = 0;
  while (got === 0) {
    got = (await b.take(1)).granted;
    if (!got) await sleep(10);
  }
  assert.ok(Date.now() - t0 >= 380, `a token came after ${Date.now() - t0} ms`);
});

test('row locks: one owner, renewed while held, released by the owner only, expiring', async () => {
  const h = lockHash('primary_user_id', { primary_user_id: 'auth0|p1', secondary_user_id: 'x' });
  assert.equal(h, lockHash('primary_user_id', { primary_user_id: 'auth0|p1', secondary_user_id: 'y' }));
  assert.equal(lockHash('primary_user_id', { secondary_user_id: 'y' }), null);
  const key = `test:lock:${h}`;
  let lost = 0;
  const a = new RowLock(client, key, 600, () => { lost += 1; });
  const b = new RowLock(client, key, 600, () => {});
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire(), false);
  await sleep(1000);  // longer than the lease: renewals keep it
  assert.equal(await b.acquire(), false);
  await b.release();  // not the owner: nothing happens
  assert.equal(await client.get(key), a.owner);
  await a.release();
  assert.equal(await client.exists(key), 0);
  assert.equal(await b.acquire(), true);
  b.stopRenewing();  // its worker "dies": the lease runs out
  await sleep(700);
  const c = new RowLock(client, key, 600, () => {});
  assert.equal(await c.acquire(), true);
  await c.release();
  // An owner whose lock was taken over hears of it at its next renewal.
  assert.equal(await a.acquire(), true);
  await client.set(key, 'someone-else');
  await sleep(400);
  assert.equal(lost, 1);
  a.stopRenewing();
  await client.del(key);
});

test('status and results: counts, rate, lines in row order', async () => {
  const name = 'unit-status';
  const keys = keysOf(name);
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix: PREFIX });
  await queue.addBulk([0, 1, 2].map((row) => ({ name: 'row', data: { row }, opts: { jobId: `j${row}` } })));
  await queue.close();
  await record(client, keys, 2, '{"row":2,"status":"failed","steps":{}}');
  await record(client, keys, 10, '{"row":10,"status":"ok","steps":{}}');
  await record(client, keys, 1, '{"row":1,"status":"ok","steps":{}}');
  await record(client, keys, 2, '{"row":2,"status":"ok","steps":{}}');  // a retry that succeeded
  const s = wfaQueue(['status', '--redis', redis.url, '--queue', name]);
  assert.equal(s.status, 0, s.stderr);
  const line = JSON.parse(s.stdout);
  assert.equal(line.waiting, 3);
  assert.equal(line.active + line.completed + line.failed, 0);
  assert.ok(line.rate > 0 && line.eta_s > 0, s.stdout);
  const r = wfaQueue(['results', '--redis', redis.url, '--queue', name]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).row), [1, 2, 10]);
  await record(client, keys, 3, '{"row":3,"status":"failed","steps":{}}');
  assert.equal(wfaQueue(['results', '--redis', redis.url, '--queue', name]).status, 1);
});

test('Redis unreachable: one clear message while retrying, then exit 1, no stack trace', async () => {
  const port = await freePort();
  for (const cmd of ['status', 'results']) {
    const t0 = Date.now();
    const r = wfaQueue([cmd, '--redis', `redis://127.0.0.1:${port}`, '--connect-timeout', '1.5']);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(Date.now() - t0 >= 1400, 'gave up before the timeout');
    assert.match(r.stderr, new RegExp(`Redis at redis://127.0.0.1:${port} unreachable \\(ECONNREFUSED\\); retrying`));
    assert.match(r.stderr, /cannot reach Redis .*gave up after 1.5 s/);
    assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);  // no message per attempt
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('usage errors name the problem and exit 2', () => {
  const flowFile = path.join(tmpDir('unit'), 'f.flow.json');  // only read for its inputs here
  fs.writeFileSync(flowFile, JSON.stringify({ inputs: { primary_user_id: { type: 'string' } } }));
  const cases = [
    [['worker', flowFile, '--redis', 'redis://127.0.0.1:1', '--lock-key', 'primary'],
      /--lock-key primary: the flow declares no such input \(it has primary_user_id\)/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['status'], /status needs --redis URL/],
    [['status', '--redis', 'http://x'], /redis:\/\/ or rediss:\/\//],
    [['status', '--redis', 'redis://127.0.0.1:1', '--queue', 'a:b'], /--queue a:b/],
    [['enqueue', 'f.json', '--redis', 'redis://127.0.0.1:1'], /--inputs-file/],
    [['worker', 'f.json', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency 0/],
  ];
  for (const [args, re] of cases) {
    const r = wfaQueue(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  fs.rmSync(path.dirname(flowFile), { recursive: true, force: true });
});
