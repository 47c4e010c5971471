'use strict';
// @wfa/runner: the lifetime rules. AbortSignal (before and during a row), close() with rows
// pending, a garbage-collected flow with rows pending, the event loop kept alive exactly
// while rows are pending.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { getEventListeners } = require('node:events');
const v8 = require('node:v8');
const vm = require('node:vm');
const { runner, native, scratch, writeFlow, nodeScript } = require('./common');
const { openFlow } = runner;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = scratch();
const delayFlow = writeFlow(dir, {
  inputs: { ms: {} },
  steps: [{ id: 'd', action: 'test.delay', connection: 'local', inputs: { ms: '${{ inputs.ms }}' } }],
}, 'delay.flow.json');
const echoFlow = writeFlow(dir, {
  inputs: { v: {} },
  steps: [{ id: 'e', action: 'test.echo', connection: 'local', inputs: { value: '${{ inputs.v }}' } }],
  outputs: { n: '${{ steps.e.outputs.n }}' },
}, 'echo.flow.json');

test('AbortSignal already aborted: cancelled at once, never started', async () => {
  const flow = openFlow(echoFlow);
  try {
    const r = await flow.run({ v: 1 }, { row: 3, signal: AbortSignal.abort() });
    assert.deepEqual(r, { status: 'cancelled', line: '{"row":3,"status":"cancelled","steps":{}}', code: 'cancelled',
      retryable: false, retryAfterS: 0 });
    // test.echo counts its executions: the aborted row never reached the plugin.
    const next = await flow.run({ v: 2 });
    assert.equal(JSON.parse(next.line).outputs.n, 1);
  } finally {
    await flow.close();
  }
});

test('AbortSignal during a row: the row is cancelled in flight; the listener goes when the row ends', async () => {
  const flow = openFlow(delayFlow);
  try {
    const ac = new AbortController();
    const started = Date.now();
    const pending = flow.run({ ms: 60000 }, { signal: ac.signal });
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    setTimeout(() => ac.abort(), 50);
    const r = await pending;
    assert.equal(r.status, 'cancelled', r.line);
    assert.equal(r.code, 'cancelled');
    assert.equal(JSON.parse(r.line).steps.d.status, 'cancelled');
    assert.ok(Date.now() - started < 10000);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);

    // A row that ends by itself removes its listener too; a later abort does nothing.
    const kept = new AbortController();
    const done = await flow.run({ ms: 1 }, { signal: kept.signal });
    assert.equal(done.status, 'ok');
    assert.equal(getEventListeners(kept.signal, 'abort').length, 0);
    kept.abort();
  } finally {
    await flow.close();
  }
});

test('close() with rows pending: cancels them, resolves after every row settled; run() after it rejects', async () => {
  const flow = openFlow(delayFlow);
  const settled = [];
  const rows = Array.from({ length: 20 }, (_, i) => flow.run({ ms: 60000 }, { row: i }).then((r) => {
    settled.push(i);
    return r;
  }));
  await tick(50);
  const started = Date.now();
  const closing = flow.close();
  assert.equal(flow.close(), closing, 'close() twice: one promise');
  await closing;
  assert.equal(settled.length, 20, 'every row settled before close() resolved');
  assert.ok(Date.now() - started < 10000);
  for (const r of await Promise.all(rows)) {
    assert.equal(r.status, 'cancelled', r.line);
    assert.equal(r.code, 'cancelled');
  }
  await assert.rejects(flow.run({ ms: 1 }), { code: 'flow_closed' });
});

test('close() returns at once: the runner is closed on another thread, the JS thread stays free', async () => {
  const before = native._test.jsThreadClosesWithRows();
  const flow = openFlow(delayFlow);
  const rows = Array.from({ length: 10 }, () => flow.run({ ms: 60000 }));
  await tick(20);
  const t0 = process.hrtime.bigint();
  const closing = flow.close();
  const syncMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let timerRan = false;
  setImmediate(() => { timerRan = true; });
  await closing;
  await Promise.all(rows);
  assert.ok(timerRan);
  assert.ok(syncMs < 50, `close() blocked the JS thread for ${syncMs} ms`);
  assert.equal(native._test.jsThreadClosesWithRows(), before, 'wfa_runner_close ran on the JS thread with rows pending');
});

test('a garbage-collected flow with rows pending: the rows finish ok, then the flow is closed', async () => {
  const before = native._test.openFlows();
  // The native flow directly: its row callbacks do not reference it, so nothing in JS keeps
  // it reachable while its rows run; only the addon's own reference does.
  const results = [];
  (() => {
    const nf = new native.NativeFlow(delayFlow, {});
    for (let i = 0; i < 20; i++) nf.run(JSON.stringify({ ms: 300 }), i, (r) => results.push(r));
  })();
  // The package's Flow too, dropped with rows in flight.
  const viaPackage = (() => {
    const flow = openFlow(delayFlow);
    return Array.from({ length: 5 }, () => flow.run({ ms: 300 }));
  })();
  assert.equal(native._test.openFlows(), before + 2);
  for (let i = 0; i < 10; i++) {
    gc();
    await tick(10);
  }
  for (const r of await Promise.all(viaPackage)) assert.equal(r.status, 'ok', r.line);
  while (results.length < 20) await tick(20);
  for (const r of results) assert.equal(r.status, 'ok', r.line);
  // Nothing pending any more: collected, and closed off the JS thread.
  for (let i = 0; i < 100 && native._test.openFlows() > before; i++) {
    gc();
    await tick(20);
  }
  assert.equal(native._test.openFlows(), before);
});

const requirePackage = 'const { openFlow } = require(process.env.WFA_PACKAGE_DIR);';

test('the event loop stays alive while a row is pending, and lets the process exit after', () => {
  // Nothing but run(): the script must still print the result, then exit by itself.
  const r = nodeScript(`${requirePackage}
    openFlow(${JSON.stringify(delayFlow)}).run({ ms: 300 }).then((r) => console.log(JSON.stringify(r)));`);
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.status, 'ok', out.line);
  assert.ok(r.ms < 20000);
  // A flow with nothing pending holds nothing: the process ends at once.
  const idle = nodeScript(`${requirePackage} globalThis.flow = openFlow(${JSON.stringify(delayFlow)}); console.log('opened');`);
  assert.equal(idle.status, 0, idle.stderr);
  assert.equal(idle.stdout.trim(), 'opened');
  assert.ok(idle.ms < 20000);
});

test('a script that never closes its flow exits cleanly once its rows are done (the flow is closed at exit)', () => {
  const r = nodeScript(`${requirePackage}
    const flow = openFlow(${JSON.stringify(delayFlow)});
    const ac = new AbortController();
    flow.run({ ms: 60000 }, { signal: ac.signal }).then((r) => { console.log(r.status); });
    setTimeout(() => ac.abort(), 100);`);
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout.trim(), 'cancelled');
});

test('process.exit() with rows in flight: every flow is closed before the process ends', () => {
  // Our 'exit' listener runs after the package's (registered when it was required): by then
  // no flow may be open, so no plugin thread outlives the process.
  const r = nodeScript(`${requirePackage}
    const native = require(process.env.WFA_RUNNER_ADDON);
    const running = openFlow(${JSON.stringify(delayFlow)});
    const closing = openFlow(${JSON.stringify(delayFlow)});
    for (let i = 0; i < 20; i++) { running.run({ ms: 60000 }); closing.run({ ms: 60000 }); }
    setTimeout(() => {
      closing.close();
      process.on('exit', () => console.log('open at exit:', native._test.openFlows()));
      process.exit(3);
    }, 50);`);
  assert.equal(r.status, 3, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout.trim(), 'open at exit: 0');
});

test('runs, aborts and close() racing: every row settles exactly once, ok or cancelled', async () => {
  const flow = openFlow(delayFlow);
  const settled = new Map();
  const rows = [];
  for (let i = 0; i < 300; i++) {
    const ac = new AbortController();
    rows.push(flow.run({ ms: i % 7 === 0 ? 60000 : i % 20 }, { row: i, signal: ac.signal }).then((r) => {
      settled.set(i, (settled.get(i) ?? 0) + 1);
      return r;
    }));
    if (i % 3 === 0) setTimeout(() => ac.abort(), i % 10);
  }
  await tick(15);
  await flow.close();
  const results = await Promise.all(rows);
  assert.equal(settled.size, 300);
  assert.ok([...settled.values()].every((n) => n === 1));
  for (const [i, r] of results.entries()) {
    assert.ok(r.status === 'ok' || r.status === 'cancelled', r.line);
    assert.equal(JSON.parse(r.line).row, i);
    if (i % 7 === 0) assert.equal(r.status, 'cancelled', r.line);
  }
});

test('one signal shared by many rows: one listener while any runs, none after; abort cancels them all', async () => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  const flow = openFlow(delayFlow);
  try {
    const shared = new AbortController();
    const quick = Array.from({ length: 30 }, () => flow.run({ ms: 1 }, { signal: shared.signal }));
    const slow = Array.from({ length: 30 }, () => flow.run({ ms: 60000 }, { signal: shared.signal }));
    assert.equal(getEventListeners(shared.signal, 'abort').length, 1);
    for (const r of await Promise.all(quick)) assert.equal(r.status, 'ok', r.line);
    assert.equal(getEventListeners(shared.signal, 'abort').length, 1, 'the slow rows still wait on it');
    shared.abort();
    for (const r of await Promise.all(slow)) assert.equal(r.status, 'cancelled', r.line);
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);

    const idle = new AbortController();
    await Promise.all(Array.from({ length: 20 }, () => flow.run({ ms: 1 }, { signal: idle.signal })));
    assert.equal(getEventListeners(idle.signal, 'abort').length, 0);
    await tick(10);  // a warning is emitted on the next tick
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
    await flow.close();
  }
});

test('process.exit() right after the collector took idle flows: their closes are waited for', () => {
  // A collected flow closes on a thread of its own; exiting meanwhile must wait for it.
  const r = nodeScript(`${requirePackage}
    const native = require(process.env.WFA_RUNNER_ADDON);
    (() => { for (let i = 0; i < 50; i++) openFlow(${JSON.stringify(delayFlow)}); })();
    let spins = 0;
    const spin = () => {
      gc();
      // Exit as soon as the finalizers ran (their closes were started, not waited for).
      if (native._test.collectedFlows() === 0 && spins++ < 200) return setImmediate(spin);
      process.on('exit', () => console.log('open at exit:', native._test.openFlows()));
      process.exit(0);
    };
    setImmediate(spin);`, ['--expose-gc']);
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout.trim(), 'open at exit: 0');
});
