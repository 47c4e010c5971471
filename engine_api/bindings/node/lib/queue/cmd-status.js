'use strict';
// wfa-queue status: one JSON line: the jobs in each state, the rows ended per second over
// the last 30 s, and the time left at that rate.
const { Queue } = require('bullmq');
const { connect } = require('./redis');
const { PREFIX, keysOf } = require('./keys');
const { rate } = require('./results');

module.exports = async function status(args, { numberOpt }) {
  const connectTimeoutS = numberOpt(args, 'connect-timeout', 30, { min: 0, max: 86400, integer: false });
  const client = await connect(args.opts.redis, connectTimeoutS);
  const queue = new Queue(args.queue, { connection: client, prefix: PREFIX });
  try {
    const c = await queue.getJobCounts('wait', 'paused', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const perS = await rate(client, keysOf(args.queue));
    const waiting = c.wait + c.paused + c.prioritized;
    const left = waiting + c.delayed + c.active;
    const line = {
      queue: args.queue,
      waiting,
      delayed: c.delayed,
      active: c.active,
      completed: c.completed,
      failed: c.failed,
      rate: Math.round(perS * 100) / 100,
      eta_s: left === 0 ? 0 : perS > 0 ? Math.round(left / perS) : null,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return 0;
  } finally {
    await queue.close();
    await client.quit().catch(() => {});
  }
};
