'use strict';
// Issue 14's acceptance for wfa-queue, against the emulator: 3 worker processes link 300
// pairs and 10 clusters of 4 accounts sharing a primary (manifests/flows/link-pairs:
// merge, arrays union) under a 40 requests/s bucket, with one budget of 40 requests/s
// shared through Redis; one worker is SIGKILLed mid-run. Then: every row ok; every line
// equals flowrun's for the same flow and rows over a fresh emulator (rows the killed
// worker had in flight ran twice: their lines may differ, their writes may not); the
// tenant ends exactly as flowrun leaves it; no cluster lost a secondary's key; < 1 % of
// requests answered 429; the budget >= 90 % used; enqueueing again runs nothing; SIGTERM
// ends the workers with 0.
// env: A0_EMULATOR, A0_PLUGIN, A0_FLOWRUN, A0_FLOWS_DIR, A0_DEMO_SEED (CMake sets them).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { PACKAGE, startRedis, startEmulator, tmpDir, wfaQueue, spawnWfaQueue, waitFor, sleep } = require('./fixtures');
const { buildSeed, buildRows, flowCopy, usersOf, auth0Env } = require('./tenant');

const { Queue } = require(path.join(PACKAGE, 'node_modules/bullmq'));
const env = process.env;
const PAIRS = 300;
const CLUSTERS = 10;
const RATE = 40;  // the emulator's bucket and the workers' budget, requests per second

test('3 workers, one SIGKILLed: flowrun\'s results, no lost merge, the budget used, few 429s', { timeout: 240000 },
  async (t) => {
    const work = tmpDir('accept');
    const seedFile = path.join(work, 'seed.json');
    const seed = buildSeed(env.A0_DEMO_SEED, { pairs: PAIRS, clusters: CLUSTERS, perSecond: RATE });
    fs.writeFileSync(seedFile, JSON.stringify(seed));
    const freeSeedFile = path.join(work, 'free.seed.json');  // flowrun's tenant: the same users, no bucket
    fs.writeFileSync(freeSeedFile, JSON.stringify(buildSeed(env.A0_DEMO_SEED, { pairs: PAIRS, clusters: CLUSTERS })));
    const rows = buildRows({ pairs: PAIRS, clusters: CLUSTERS });
    const rowsFile = path.join(work, 'rows.jsonl');
    fs.writeFileSync(rowsFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const flow = flowCopy(path.join(env.A0_FLOWS_DIR, 'link-pairs.flow.json'), env.A0_PLUGIN, work);

    const redis = await startRedis();
    const emu = await startEmulator(env.A0_EMULATOR, seedFile);
    const ref = await startEmulator(env.A0_EMULATOR, freeSeedFile);
    const workers = [];
    t.after(async () => {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all([redis.stop(), emu.stop(), ref.stop()]);
      fs.rmSync(work, { recursive: true, force: true });
    });
    const qenv = auth0Env(emu, seed);
    const common = ['--redis', redis.url, '--queue', 'accept'];

    // flowrun over the same rows on a fresh tenant, meanwhile (its own process).
    const flowrun = new Promise((resolve) => {
      const { spawn } = require('child_process');
      const p = spawn(env.A0_FLOWRUN, ['run', flow, '--inputs-file', rowsFile, '--concurrency', '8'],
        { env: auth0Env(ref, seed), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('exit', (code) => resolve({ code, out, err }));
    });

    const enq = wfaQueue(['enqueue', flow, '--inputs-file', rowsFile, ...common], qenv);
    assert.equal(enq.status, 0, enq.stderr);
    assert.deepEqual(JSON.parse(enq.stdout), { queue: 'accept', rows: rows.length, enqueued: rows.length, already_queued: 0 });

    await emu.control('DELETE', 'counters');
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      workers.push(spawnWfaQueue(['worker', flow, ...common, '--concurrency', '8', '--lock-key', 'primary_user_id',
        '--budget', String(RATE), '--lease-ms', '3000', '--grace', '10'], qenv));
    }
    const queue = new Queue('accept', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'wfa' });
    t.after(() => queue.close());
    const counts = () => queue.getJobCounts('wait', 'delayed', 'active', 'completed', 'failed');

    // Requests per second while there is work for every worker (the budget's use).
    const samples = [];
    let busy = true;
    const sampler = (async () => {
      while (busy) {
        const c = await emu.control('GET', 'counters');
        const q = await counts();
        samples.push({ at: Date.now(), requests: c.requests, left: q.wait + q.delayed + q.active });
        await sleep(500);
      }
    })();

    // One worker dies at a third of the run, with rows in flight.
    await waitFor('a third of the rows', async () => (await counts()).completed >= rows.length / 3, 60000, 50);
    workers[0].child.kill('SIGKILL');
    await waitFor('every row', async () => {
      const c = await counts();
      return c.completed + c.failed === rows.length && c.active === 0;
    }, 120000, 200);
    const elapsedS = (Date.now() - t0) / 1000;
    busy = false;
    await sampler;
    const q = await counts();
    assert.equal(q.failed, 0, 'failed rows');

    // The run's figures.
    const counters = await emu.control('GET', 'counters');
    const share429 = counters.rate_limited / counters.requests;
    // The budget's use over the busy part: from the first request until fewer rows are
    // left than two workers can run at once (the tail has too few rows to use it).
    const busyPart = samples.filter((s) => s.requests > 0 && s.left > 16);
    assert.ok(busyPart.length >= 10, `too few samples of the busy part: ${JSON.stringify(samples)}`);
    const first = busyPart[0];
    const last = busyPart[busyPart.length - 1];
    const used = (last.requests - first.requests) / (((last.at - first.at) / 1000) * RATE);
    t.diagnostic(`${rows.length} rows in ${elapsedS.toFixed(1)} s; ${counters.requests} requests, ` +
      `${counters.rate_limited} answered 429 (${(share429 * 100).toFixed(2)} %); budget used ${(used * 100).toFixed(1)} % ` +
      `over ${((last.at - first.at) / 1000).toFixed(1)} s`);
    assert.ok(share429 < 0.01, `${counters.rate_limited} of ${counters.requests} requests answered 429 ` +
      '(a plugin that does not ask wfa_host.acquire, ABI 1.1, before each request ignores the budget)');
    assert.ok(used >= 0.9, `budget used ${(used * 100).toFixed(1)} %`);

    // The same lines as flowrun (modulo order); rows that ran twice (their worker died
    // with them in flight) ended ok.
    const ref_ = await flowrun;
    assert.equal(ref_.code, 0, ref_.err);
    const res = wfaQueue(['results', ...common]);
    assert.equal(res.status, 0, res.stderr);
    const ours = res.stdout.trim().split('\n');
    const theirs = ref_.out.trim().split('\n');
    assert.equal(ours.length, rows.length);
    const byRow = (lines) => new Map(lines.map((l) => [JSON.parse(l).row, l]));
    const mine = byRow(ours);
    const flowruns = byRow(theirs);
    const ranTwice = new Set();
    for (const job of await queue.getJobs(['completed'])) if (job.stalledCounter > 0) ranTwice.add(job.data.row);
    t.diagnostic(`rows the killed worker had in flight: ${ranTwice.size}`);
    for (let row = 0; row < rows.length; row++) {
      const clusterRow = rows[row].primary_user_id.startsWith('auth0|c');
      assert.equal(JSON.parse(mine.get(row)).status, 'ok', mine.get(row));
      // A cluster's lines depend on which secondary came first (profiles, merged keys):
      // their writes are compared below, through the tenant's state.
      if (!clusterRow && !ranTwice.has(row)) assert.equal(mine.get(row), flowruns.get(row));
    }

    // The tenant as flowrun left its own: the same users, metadata and identities.
    const got = usersOf(await emu.control('GET', 'state'));
    const want = usersOf(await ref.control('GET', 'state'));
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    // A cluster's union of roles lists them in the order its secondaries were linked.
    const norm = (id, u) => (id.startsWith('auth0|c') && u?.app_metadata?.roles
      ? { ...u, app_metadata: { ...u.app_metadata, roles: [...u.app_metadata.roles].sort() } } : u);
    for (const [id, u] of want) assert.deepEqual(norm(id, got.get(id)), norm(id, u), id);
    for (let c = 0; c < CLUSTERS; c++) {  // no lost merge: every secondary's keys are there
      const p = got.get(`auth0|c${c}p`);
      assert.deepEqual(p.user_metadata.prefs, { base: true, k0: 0, k1: 1, k2: 2 }, `cluster ${c}`);
      assert.deepEqual([p.user_metadata.only0, p.user_metadata.only1, p.user_metadata.only2], [c, c, c]);
      assert.deepEqual([...p.app_metadata.roles].sort(), ['r0', 'r1', 'r2', 'user']);
      assert.equal(p.identities.length, 4);
    }

    // Enqueueing the same rows again runs nothing.
    const before = (await emu.control('GET', 'counters')).requests;
    const again = wfaQueue(['enqueue', flow, '--inputs-file', rowsFile, ...common], qenv);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { queue: 'accept', rows: rows.length, enqueued: 0, already_queued: rows.length });
    await sleep(1000);
    assert.equal((await emu.control('GET', 'counters')).requests, before);
    const st = JSON.parse(wfaQueue(['status', ...common]).stdout);
    assert.deepEqual([st.waiting, st.active, st.completed, st.failed], [0, 0, rows.length, 0]);

    // SIGTERM: the live workers stop with 0; the killed one died by SIGKILL.
    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    for (const w of workers.slice(1)) {
      const { code } = await w.exited;
      assert.equal(code, 0, w.stderr);
      assert.doesNotMatch(w.stderr, /\n\s+at /, 'a stack trace');
    }
    assert.equal((await workers[0].exited).sig, 'SIGKILL');
  });
