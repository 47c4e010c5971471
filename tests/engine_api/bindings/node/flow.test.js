'use strict';
// @wfa/runner: results. Rows that succeed or fail give the lines flowrun prints for them;
// many rows at once; bad inputs are failed rows (never a rejection); openFlow's errors.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runner, scratch, writeFlow, flowrunLines } = require('./common');
const { openFlow } = runner;

const dir = scratch();
// Two chained steps and flow outputs (test.echo counts its calls in `n`: rows run one at a
// time on both sides, so the counts match too).
const echoFlow = writeFlow(dir, {
  inputs: { name: { type: 'string' }, n: { type: 'integer' } },
  steps: [
    { id: 'a', action: 'test.echo', connection: 'local', inputs: { value: { name: '${{ inputs.name }}', n: '${{ inputs.n }}' } } },
    { id: 'b', action: 'test.echo', connection: 'local', options: { upper: true },
      inputs: { value: 'hi ${{ steps.a.outputs.value.name }} #${{ steps.a.outputs.value.n }}' } },
  ],
  outputs: { greeting: '${{ steps.b.outputs.value }}', n: '${{ steps.a.outputs.value.n }}' },
}, 'echo.flow.json');
const failFlow = writeFlow(dir, {
  inputs: { code: { type: 'string' }, m: { type: 'string' }, d: { type: 'object' } },
  steps: [
    { id: 'a', action: 'test.echo', connection: 'local', inputs: { value: '${{ inputs.m }}' } },
    { id: 'f', action: 'test.fail', connection: 'local',
      inputs: { code: '${{ inputs.code }}', message: '${{ inputs.m }}', details: '${{ inputs.d }}', http_status: 503 } },
  ],
}, 'fail.flow.json');
const delayFlow = writeFlow(dir, {
  inputs: { ms: {}, v: {} },
  steps: [{ id: 'd', action: 'test.delay', connection: 'local', inputs: { ms: '${{ inputs.ms }}', value: '${{ inputs.v }}' } }],
  outputs: { v: '${{ steps.d.outputs.value }}' },
}, 'delay.flow.json');

// Runs rows one after the other (row i numbered i), as flowrun --concurrency 1 does.
async function sequential(flow, rows) {
  const out = [];
  for (let i = 0; i < rows.length; i++) out.push(await flow.run(rows[i], { row: i }));
  return out;
}

test('ok rows: each result line equals the line flowrun prints', async () => {
  const rows = [{ name: 'ada', n: 1 }, { name: 'grace', n: 2 }, { name: 'émilie', n: 3 }];
  const flow = openFlow(echoFlow);
  try {
    const results = await sequential(flow, rows);
    assert.deepEqual(results.map((r) => r.line), flowrunLines(echoFlow, rows, ['--concurrency', '1']));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'ok');
      assert.equal(r.code, 'ok');
      assert.equal(r.retryable, false);
      assert.equal(r.retryAfterS, 0);
      const line = JSON.parse(r.line);
      assert.equal(line.row, i);
      assert.equal(line.outputs.greeting, `HI ${rows[i].name.toUpperCase()} #${rows[i].n}`.replace('É', 'é'));
    }
  } finally {
    await flow.close();
  }
});

test('failed rows: lines equal flowrun\'s; code, retryable and retryAfterS come from the failing step', async () => {
  const rows = [
    { code: 'not_found', m: 'no such user', d: {} },
    { code: 'unavailable', m: 'down', d: { where: 'upstream' } },
    { code: 'rate_limited', m: 'slow down', d: { retry_after_s: 3600 } },
  ];
  // maxRetryWaitS 0 = flowrun --max-retry-wait 0: a rate-limited row fails at once.
  const flow = openFlow(failFlow, { maxRetryWaitS: 0 });
  try {
    const results = await sequential(flow, rows);
    assert.deepEqual(results.map((r) => r.line),
      flowrunLines(failFlow, rows, ['--concurrency', '1', '--max-retry-wait', '0']));
    assert.deepEqual(results.map((r) => [r.status, r.code, r.retryable, r.retryAfterS]),
      [['failed', 'not_found', false, 0], ['failed', 'unavailable', true, 0], ['failed', 'rate_limited', true, 3600]]);
    const line = JSON.parse(results[0].line);
    assert.equal(line.steps.a.status, 'ok');
    assert.equal(line.steps.f.error.message, 'no such user');
    assert.equal(line.steps.f.error.http_status, 503);
  } finally {
    await flow.close();
  }
});

test('a rate-limited row within maxRetryWaitS is retried by the runner and ends ok, as under flowrun', async () => {
  const retryFlow = writeFlow(dir, {
    inputs: { m: { type: 'string' } },
    steps: [{ id: 'f', action: 'test.fail', connection: 'local',
      inputs: { code: 'rate_limited', message: '${{ inputs.m }}', details: { retry_after_s: 1 }, failures: 1 } }],
  }, 'retry.flow.json');
  const logs = [];
  const flow = openFlow(retryFlow, { onLog: (level, line) => logs.push([level, line]) });
  try {
    const started = Date.now();
    const r = await flow.run({ m: `node-retry-${process.pid}` }, { row: 0 });
    assert.equal(r.status, 'ok', r.line);
    assert.ok(Date.now() - started >= 900, 'the runner waited the server\'s retry_after_s');
    assert.ok(logs.some(([, line]) => /rate limited, retrying in 1 s/.test(line)), JSON.stringify(logs));
    assert.deepEqual([r.line], flowrunLines(retryFlow, [{ m: `flowrun-retry-${process.pid}` }])
      .map((l) => l.replace(`flowrun-retry-${process.pid}`, `node-retry-${process.pid}`)));
  } finally {
    await flow.close();
  }
});

test('many rows at once: every row settles once with its own result, the lines equal flowrun\'s', async () => {
  const rows = Array.from({ length: 300 }, (_, i) => ({ ms: (i * 7) % 40, v: { i, s: `row ${i}` } }));
  const flow = openFlow(delayFlow);
  try {
    const results = await Promise.all(rows.map((r, i) => flow.run(r, { row: i })));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'ok', r.line);
      const line = JSON.parse(r.line);
      assert.equal(line.row, i);
      assert.deepEqual(line.outputs.v, rows[i].v);
    }
    const ours = results.map((r) => r.line).sort();
    assert.deepEqual(ours, flowrunLines(delayFlow, rows, ['--concurrency', '64']).sort());
  } finally {
    await flow.close();
  }
});

test('bad inputs: check() gives the reasons; run() resolves a failed invalid_input row, never rejects', async () => {
  const flow = openFlow(delayFlow);
  const strict = openFlow(echoFlow);
  try {
    assert.equal(flow.check({ ms: 5, v: 1 }), null);
    assert.equal(flow.check('{"ms": 5, "v": 1}'), null);
    const reasons = strict.check({ name: 7, n: 1 });
    assert.equal(typeof reasons, 'string');
    assert.match(reasons, /name/);
    assert.match(strict.check({ name: 'x', n: 1, extra: 2 }), /extra/);
    assert.equal(typeof strict.check('{"name": '), 'string');

    const bad = await strict.run({ name: 7, n: 1 }, { row: 4 });
    assert.deepEqual([bad.status, bad.code, bad.retryable], ['failed', 'invalid_input', false]);
    assert.equal(JSON.parse(bad.line).row, 4);
    const garbled = await strict.run('{"name": ', { row: 5 });
    assert.deepEqual([garbled.status, garbled.code], ['failed', 'invalid_input']);
    // The plugin's own check (test.delay wants an integer): a failed step, as under flowrun.
    const late = await flow.run({ ms: 'soon', v: 1 }, { row: 0 });
    assert.deepEqual([late.status, late.code], ['failed', 'invalid_input']);
    assert.deepEqual([late.line], flowrunLines(delayFlow, [{ ms: 'soon', v: 1 }]));
  } finally {
    await flow.close();
    await strict.close();
  }
});

test('programming errors reject (or throw): not an object, a bad option, a closed flow', async () => {
  const flow = openFlow(delayFlow);
  for (const inputs of [null, undefined, 5, [], true]) {
    await assert.rejects(flow.run(inputs), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => flow.check(inputs), { name: 'TypeError' });
  }
  await assert.rejects(flow.run({ ms: 1, v: 1 }, { row: -1 }), { name: 'RangeError' });
  await assert.rejects(flow.run({ ms: 1, v: 1 }, { row: 1.5 }), { name: 'RangeError' });
  await assert.rejects(flow.run({ ms: 1, v: 1 }, { signal: {} }), { name: 'TypeError' });
  await assert.rejects(flow.run({ ms: 1, v: 1 }, 'fast'), { name: 'TypeError' });
  const cyclic = {};
  cyclic.self = cyclic;
  await assert.rejects(flow.run(cyclic), TypeError);
  await flow.close();
  assert.equal(flow.closed, true);
  await assert.rejects(flow.run({ ms: 1, v: 1 }), { code: 'flow_closed' });
  assert.throws(() => flow.check({ ms: 1, v: 1 }), { code: 'flow_closed' });
});

test('openFlow: errors carry .code and the runner\'s message; bad options are refused before opening', () => {
  assert.throws(() => openFlow(path.join(dir, 'missing.flow.json')), (e) => {
    assert.equal(e.code, 'invalid_input');
    assert.match(e.message, /missing\.flow\.json/);
    return true;
  });
  const unknownAction = writeFlow(dir, { steps: [{ id: 'x', action: 'test.nope', connection: 'local', inputs: {} }] }, 'bad.flow.json');
  assert.throws(() => openFlow(unknownAction), (e) => e.code === 'invalid_input' && /test\.nope/.test(e.message));
  const failing = writeFlow(dir, {
    connections: { local: { plugin: 't', config: { fail_create: true } } },
    steps: [{ id: 'x', action: 'test.echo', connection: 'local', inputs: { value: 1 } }],
  }, 'create.flow.json');
  assert.throws(() => openFlow(failing), (e) => e.code === 'invalid_input' && /fail_create/.test(e.message));
  fs.writeFileSync(path.join(dir, 'garbage.flow.json'), '{ not json');
  assert.throws(() => openFlow(path.join(dir, 'garbage.flow.json')), { code: 'invalid_input' });

  assert.throws(() => openFlow(), { name: 'TypeError' });
  assert.throws(() => openFlow(42), { name: 'TypeError' });
  assert.throws(() => openFlow(delayFlow, { logLevel: 'loud' }), { name: 'RangeError' });
  assert.throws(() => openFlow(delayFlow, { maxRetryWaitS: -1 }), { name: 'RangeError' });
  assert.throws(() => openFlow(delayFlow, { maxRetryWaitS: 2 ** 32 }), { name: 'RangeError' });
  assert.throws(() => openFlow(delayFlow, { budget: { available: 5 } }), { name: 'TypeError' });
  assert.throws(() => openFlow(delayFlow, { onLog: 'console' }), { name: 'TypeError' });
  assert.throws(() => openFlow(delayFlow, { noStepOutputs: 1 }), { name: 'TypeError' });
});

test('options: onLog gets the plugin\'s lines at logLevel; noStepOutputs as flowrun --no-step-outputs', async () => {
  const lines = [];
  const verbose = openFlow(echoFlow, { logLevel: 'debug', onLog: (level, line) => lines.push([level, line]) });
  const quiet = [];
  const terse = openFlow(echoFlow, { noStepOutputs: true, onLog: (level, line) => quiet.push([level, line]) });
  try {
    await verbose.run({ name: 'ada', n: 1 });
    assert.ok(lines.some(([level, line]) => level === 'debug' && /wfa-test: op \d+ test\.echo .*started/.test(line)),
      JSON.stringify(lines));
    const r = await terse.run({ name: 'ada', n: 1 }, { row: 0 });
    assert.equal(JSON.parse(r.line).steps.a.outputs, undefined);
    assert.deepEqual([r.line], flowrunLines(echoFlow, [{ name: 'ada', n: 1 }], ['--no-step-outputs']));
    assert.ok(!quiet.some(([level]) => level === 'debug' || level === 'trace'), 'the default threshold is warn');
  } finally {
    await verbose.close();
    await terse.close();
  }
});
