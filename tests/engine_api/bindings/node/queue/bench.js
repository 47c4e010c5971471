'use strict';
// wfa-queue benchmark (not a CTest test): links/s with 1, 2 and 4 worker processes, with a
// 40 requests/s bucket on the emulator (and the same budget for the workers) and without
// one. Every Management API request is delayed 20 ms (as in tests/plugin/bench), the
// flow is manifests/flows/link-pairs (4 requests a pair: two GETs, the PATCH, the link).
//   node tests/engine_api/bindings/node/queue/bench.js [BUILD_DIR]   (default build/release;
//   A0_PLUGIN overrides the plugin, WFA_RUNNER_ADDON the addon)
// Prints a Markdown table (README "Run on many workers (BullMQ/Redis)").
const fs = require('fs');
const path = require('path');
const { startRedis, startEmulator, tmpDir, wfaQueue, spawnWfaQueue, waitFor } = require('./fixtures');
const { buildSeed, buildRows, flowCopy, auth0Env } = require('./tenant');

const root = path.resolve(__dirname, '../../../../..');
const build = path.resolve(process.argv[2] || path.join(root, 'build/release'));
const PLUGIN = process.env.A0_PLUGIN || path.join(build, 'plugin/abi/libauth0_actions.so');
const EMULATOR = path.join(build, 'tests/emulator/auth0-emulator');
const { Queue } = require(path.join(root, 'engine_api/bindings/node/node_modules/bullmq'));

async function run({ workers, bucket, pairs }) {
  const work = tmpDir('bench');
  const seed = buildSeed(path.join(root, 'manifests/emulator/demo.seed.json'), { pairs, clusters: 0, perSecond: bucket });
  fs.writeFileSync(path.join(work, 'seed.json'), JSON.stringify(seed));
  const rowsFile = path.join(work, 'rows.jsonl');
  fs.writeFileSync(rowsFile, buildRows({ pairs, clusters: 0 }).map((r) => JSON.stringify(r)).join('\n') + '\n');
  const flow = flowCopy(path.join(root, 'manifests/flows/link-pairs.flow.json'), PLUGIN, work);
  const redis = await startRedis();
  const emu = await startEmulator(EMULATOR, path.join(work, 'seed.json'));
  await emu.control('PUT', 'latency', { ms: 20 });
  const env = auth0Env(emu, seed);
  const common = ['--redis', redis.url, '--queue', 'bench'];
  const procs = [];
  try {
    const e = wfaQueue(['enqueue', flow, '--inputs-file', rowsFile, ...common], env);
    if (e.status !== 0) throw new Error(e.stderr);
    await emu.control('DELETE', 'counters');
    const queue = new Queue('bench', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'wfa' });
    const t0 = Date.now();
    for (let i = 0; i < workers; i++) {
      procs.push(spawnWfaQueue(['worker', flow, ...common, '--concurrency', '16',
        ...(bucket ? ['--budget', String(bucket), '--lock-key', 'primary_user_id'] : ['--lock-key', 'primary_user_id'])], env));
    }
    await waitFor('the rows', async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed + c.failed === pairs;
    }, 600000, 100);
    const s = (Date.now() - t0) / 1000;
    const c = await emu.control('GET', 'counters');
    const failed = (await queue.getJobCounts('failed')).failed;
    await queue.close();
    return { linksPerS: pairs / s, seconds: s, requests: c.requests, rateLimited: c.rate_limited, failed };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await Promise.all([redis.stop(), emu.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

(async () => {
  console.log('| bucket (requests/s) | workers | pairs | links/s | s | requests answered 429 | failed |');
  console.log('|---|---|---|---|---|---|---|');
  for (const bucket of [0, 40]) {
    for (const workers of [1, 2, 4]) {
      const pairs = bucket ? 300 : 1500;
      const r = await run({ workers, bucket, pairs });
      console.log(`| ${bucket || 'none'} | ${workers} | ${pairs} | ${r.linksPerS.toFixed(1)} | ${r.seconds.toFixed(1)} | ` +
        `${r.rateLimited} of ${r.requests} | ${r.failed} |`);
    }
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
