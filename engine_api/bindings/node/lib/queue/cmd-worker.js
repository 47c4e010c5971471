'use strict';
// wfa-queue worker: runs a flow's queued rows through the runner binding.
//  - a row that ends ok or failed has its result line recorded (wfa-queue results);
//  - failed and retryable: thrown, so BullMQ retries it with the job's attempts/backoff;
//    failed and not retryable: UnrecoverableError, straight to the failed set;
//  - rate_limited with a server wait: the whole queue (every worker) pauses for it, the
//    shared budget is emptied for as long, and the row runs again (no attempt used);
//  - --lock-key: a row whose lock another row holds is delayed and tried again;
//  - cancelled (SIGTERM past --grace, a lost lock): put back, it runs again.
// SIGTERM/SIGINT: stop taking rows, let those in flight finish for --grace seconds, then
// cancel them, close the flow, exit 0. A second signal cancels at once.
const fs = require('fs');
const IORedis = require('ioredis');
const { Queue, Worker, DelayedError, UnrecoverableError } = require('bullmq');
const { redisOptions, connectionReporter, UsageError } = require('./redis');
const { PREFIX, keysOf } = require('./keys');
const { SharedBudget, Feeder } = require('./budget');
const { RowLock, lockHash } = require('./lock');
const { record } = require('./results');
const { binding, open } = require('./binding');

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

// The flow's declared input names (for --lock-key), read from the file itself; a file
// that does not parse is left for the runner to report.
function declaredInputs(flowPath) {
  try {
    return Object.keys(JSON.parse(fs.readFileSync(flowPath, 'utf8')).inputs || {});
  } catch {
    return null;
  }
}

module.exports = async function worker(args, { numberOpt }) {
  const concurrency = numberOpt(args, 'concurrency', 4, { min: 1, max: 10000 });
  const budgetPerS = numberOpt(args, 'budget', 0, { min: 0, max: 1e6, integer: false });
  const leaseMs = numberOpt(args, 'lease-ms', 30000, { min: 500, max: 3600000 });
  const graceS = numberOpt(args, 'grace', 30, { min: 0, max: 86400, integer: false });
  const logLevel = args.opts['log-level'] ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level ${logLevel}: one of ${LOG_LEVELS.join(', ')}`);
  const lockKey = args.opts['lock-key'] ?? null;
  const connection = redisOptions(args.opts.redis);
  if (lockKey !== null) {
    const names = declaredInputs(args.flow);
    if (names && !names.includes(lockKey)) {
      throw new UsageError(`--lock-key ${lockKey}: the flow declares no such input (it has ${names.join(', ') || 'none'})`);
    }
  }

  const say = (line) => process.stderr.write(`wfa-queue: ${line}\n`);
  const pool = budgetPerS > 0 ? new (binding().TokenPool)() : null;
  // The runner never waits out a long Retry-After itself: the queue pauses instead.
  const flow = open(args.flow, { ...(pool ? { budget: pool } : {}), logLevel, maxRetryWaitS: 0xffffffff });

  const keys = keysOf(args.queue);
  const reporter = connectionReporter(args.opts.redis);
  const client = new IORedis(connection);
  client.on('error', (e) => reporter.error(e));
  client.on('ready', () => reporter.ready());
  const queue = new Queue(args.queue, { connection, prefix: PREFIX });
  queue.on('error', (e) => reporter.error(e));
  const budget = pool ? new SharedBudget(client, keys.budget, budgetPerS) : null;
  const feeder = pool ? new Feeder(budget, pool, { onError: (e) => reporter.error(e) }) : null;

  const inflight = new Set();  // AbortControllers of the rows running here
  const cancelAll = () => {
    for (const ac of inflight) ac.abort();
  };

  async function processRow(job, token, signal) {
    const { row, inputs } = job.data;
    const ac = new AbortController();
    if (signal) signal.addEventListener('abort', () => ac.abort(), { once: true });
    let lock = null;
    const h = lockKey !== null ? lockHash(lockKey, inputs) : null;
    if (h) {
      lock = new RowLock(client, keys.lock(h), leaseMs, () => {
        say(`row ${row}: its ${lockKey} lock was lost (lease expired); cancelling it, it runs again`);
        ac.abort();
      });
      if (!(await lock.acquire())) {
        // Another row of the same value runs: try again shortly, without using an attempt.
        await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 200), token);
        throw new DelayedError();
      }
    }
    let r;
    inflight.add(ac);
    try {
      r = await flow.run(inputs, { row, signal: ac.signal });
    } finally {
      inflight.delete(ac);
      if (lock) await lock.release().catch(() => {});
    }
    if (r.status === 'cancelled') {
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    if (r.status === 'failed' && r.code === 'rate_limited' && r.retryAfterS > 0) {
      const ms = r.retryAfterS * 1000;
      say(`row ${row}: rate limited; every worker pauses ${r.retryAfterS} s, then it runs again`);
      if (budget) await budget.pause(ms);
      await queue.rateLimit(ms);
      throw Worker.RateLimitError();
    }
    await record(client, keys, row, r.line);
    if (r.status === 'ok') return null;
    if (r.retryable) throw new Error(r.line);  // BullMQ retries it (attempts, backoff)
    throw new UnrecoverableError(r.line);
  }

  const w = new Worker(args.queue, processRow, {
    connection,
    prefix: PREFIX,
    concurrency,
    // A dead worker's rows go back to the queue after one lease; a row whose worker only
    // stalled may then run twice, which re-linking tolerates (a linked pair is a success
    // with no write), and --lock-key still keeps two runs of one primary apart.
    lockDuration: leaseMs,
    stalledInterval: Math.max(1000, Math.floor(leaseMs / 2)),
    maxStalledCount: 10,
    // Never the bound (a million rows a second): it makes BullMQ check the queue's rate
    // limit key before each row, which queue.rateLimit() above sets to pause every worker.
    limiter: { max: 1000000, duration: 1000 },
  });
  w.on('error', (e) => reporter.error(e));

  await new Promise((resolve) => {
    let stopping = false;
    const stop = async (sig) => {
      if (stopping) {
        say(`${sig} again: cancelling the ${inflight.size} rows in flight`);
        cancelAll();
        return;
      }
      stopping = true;
      say(`${sig}: taking no more rows; ${inflight.size} in flight (cancelled after ${graceS} s)`);
      const grace = setTimeout(cancelAll, graceS * 1000);
      // Redis gone for good must not keep us from exiting.
      const hard = setTimeout(() => {
        say('Redis did not answer while stopping; exiting');
        process.exit(0);
      }, (graceS + 30) * 1000);
      hard.unref();
      try {
        await w.close();
      } catch (e) {
        say(`stopping: ${e.message}`);
      }
      clearTimeout(grace);
      if (feeder) await feeder.stop();
      await flow.close();
      await queue.close().catch(() => {});
      await client.quit().catch(() => {});
      resolve();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
};
