'use strict';
// @wfa/runner: TokenPool, the native token counter behind wfa_runner_options.acquire.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runner, native, scratch } = require('./common');
const { TokenPool, openFlow } = runner;

test('acquire from many threads at once: grants exactly the tokens added, counts every refusal as demand', () => {
  const pool = new native.NativeTokenPool(20);
  pool.add(1000);
  const [granted, refused] = native._test.acquireFromThreads(pool, 8, 500, 1);
  assert.equal(granted, 1000);
  assert.equal(refused, 3000);
  assert.equal(pool.available, 0);
  assert.equal(pool.takeDemand(), 3000);
  assert.equal(pool.takeDemand(), 0, 'takeDemand() resets the count');

  // A cost of 3: a remainder below the cost stays in the pool.
  pool.add(1000);
  const [g3, r3] = native._test.acquireFromThreads(pool, 8, 100, 3);
  assert.equal(g3, 333);
  assert.equal(r3, 800 - 333);
  assert.equal(pool.available, 1);
  assert.equal(pool.takeDemand(), 3 * (800 - 333));
  assert.equal(pool.drain(), 1);
  assert.equal(pool.available, 0);

  // Refills while threads ask: nothing is lost or granted twice.
  pool.add(50);
  const rounds = [];
  for (let i = 0; i < 20; i++) {
    rounds.push(native._test.acquireFromThreads(pool, 4, 40, 1));
    pool.add(50);
  }
  const total = rounds.reduce((sum, [g]) => sum + g, 0);
  assert.equal(total + pool.available, 50 * 21);
});

test('TokenPool from JS: add, available, takeDemand, drain; bad arguments are refused', () => {
  const pool = new TokenPool();
  assert.equal(pool.available, 0);
  pool.add(5);
  pool.add(0);
  assert.equal(pool.available, 5);
  assert.equal(pool.takeDemand(), 0);
  assert.equal(pool.drain(), 5);
  assert.equal(pool.available, 0);
  pool.add(Number.MAX_SAFE_INTEGER);
  pool.add(10);
  assert.equal(pool.available, Number.MAX_SAFE_INTEGER, 'the pool saturates at 2^53 - 1');
  for (const n of [-1, 1.5, NaN, '3', undefined, 2 ** 60]) {
    assert.throws(() => pool.add(n), { name: 'RangeError' }, String(n));
  }
  for (const waitMs of [0, -5, 1.5, 60001, 'x']) {
    assert.throws(() => new TokenPool({ waitMs }), { name: 'RangeError' }, String(waitMs));
  }
  assert.throws(() => new TokenPool(5), { name: 'TypeError' });
  assert.ok(new TokenPool({ waitMs: 50 }));
  assert.throws(() => native.NativeTokenPool.prototype.add.call({}, 1), { name: 'TypeError' });
});

test('a flow opened with a budget: the plugin\'s asks reach the pool from its threads, grants and demand exact', async () => {
  // The host tests' options fixture: fx.acquire asks wfa_host.acquire once, from a thread of
  // its own per call, and answers {"answer": MS} (null when the host offers no budget).
  const dir = scratch();
  const file = path.join(dir, 'acquire.flow.json');
  fs.writeFileSync(file, JSON.stringify({
    plugins: [{ id: 'fx', path: process.env.WFA_FIXTURE_OPTIONS }],
    connections: { local: { plugin: 'fx' } },
    inputs: { cost: { type: 'integer' } },
    steps: [{ id: 'a', action: 'fx.acquire', connection: 'local', inputs: { bucket: 'tenant:mgmt', cost: '${{ inputs.cost }}' } }],
    outputs: { answer: '${{ steps.a.outputs.answer }}' },
  }));
  const answers = async (flow, n, cost) => (await Promise.all(Array.from({ length: n }, () => flow.run({ cost }))))
    .map((r) => {
      assert.equal(r.status, 'ok', r.line);
      return JSON.parse(r.line).outputs.answer;
    });

  const pool = new TokenPool({ waitMs: 33 });
  pool.add(40);
  const flow = openFlow(file, { budget: pool });
  try {
    const got = await answers(flow, 60, 1);  // 60 asks at once for 40 tokens
    assert.equal(got.filter((a) => a === 0).length, 40);
    assert.equal(got.filter((a) => a === 33).length, 20);
    assert.equal(pool.available, 0);
    assert.equal(pool.takeDemand(), 20);
    pool.add(5);
    assert.deepEqual((await answers(flow, 1, 3)).concat(await answers(flow, 1, 3)), [0, 33]);
    assert.equal(pool.available, 2);
    assert.equal(pool.takeDemand(), 3);
  } finally {
    await flow.close();
  }
  // No budget: the plugin is offered none.
  const free = openFlow(file);
  try {
    assert.deepEqual(await answers(free, 1, 1), [null]);
  } finally {
    await free.close();
  }
});
