'use strict';
// @wfa/runner: TokenPool, the native token counter behind wfa_runner_options.acquire.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runner, native } = require('./common');
const { TokenPool } = runner;

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
