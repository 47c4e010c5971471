'use strict';
// wfa-queue enqueue: every row is checked against the flow before anything is queued
// (like flowrun's first pass over a regular file), then added as a job whose id is the
// hash of its inputs (the same rows again add nothing) and which carries its row number
// (so its result line is flowrun's).
const fs = require('fs');
const readline = require('readline');
const { Queue } = require('bullmq');
const { connect, UsageError } = require('./redis');
const { jobId } = require('./canon');
const { PREFIX } = require('./keys');
const { open } = require('./binding');

const MAX_LINE = 1 << 20;  // flowrun's bound on a line
const MAX_ERRORS = 20;

// Calls each(inputs, row) for every non-blank line (rows numbered from 0 as flowrun does;
// errors name the line from 1), or collects what is wrong with them.
async function forEachRow(file, each, problems) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  let row = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (!/[^ \t\r]/.test(line)) continue;
    const where = `${file}:${lineNo}`;
    if (Buffer.byteLength(line) > MAX_LINE) {
      problems.push(`${where}: line longer than ${MAX_LINE} bytes`);
      row += 1;
      continue;
    }
    let v;
    try {
      v = JSON.parse(line);
    } catch {
      v = undefined;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${where}: expected one JSON object per line`);
    } else {
      const bad = await each(v, row, where);
      if (bad) problems.push(`${where}: ${bad}`);
    }
    row += 1;
  }
  return row;
}

module.exports = async function enqueue(args, { numberOpt }) {
  const file = args.opts['inputs-file'];
  const attempts = numberOpt(args, 'attempts', 5, { min: 1, max: 1000 });
  const backoffMs = numberOpt(args, 'backoff-ms', 1000, { min: 0, max: 86400000 });
  const connectTimeoutS = numberOpt(args, 'connect-timeout', 30, { min: 0, max: 86400, integer: false });
  let st;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  // Read twice (check, then queue): a pipe could not be read again.
  if (!st.isFile()) throw new UsageError(`${file}: --inputs-file must be a regular file (it is read twice)`);

  // Pass 1: the flow opens (it validates) and every row checks; nothing is queued else.
  const flow = open(args.flow, { logLevel: 'warn' });
  const problems = [];
  let rows;
  try {
    rows = await forEachRow(file, (inputs) => flow.check(inputs), problems);
  } finally {
    await flow.close();
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_ERRORS).map((p) => `wfa-queue: ${p}`);
    if (problems.length > MAX_ERRORS) shown.push(`wfa-queue: ... and ${problems.length - MAX_ERRORS} more`);
    process.stderr.write(`${shown.join('\n')}\n`);
    const err = new Error(`${problems.length} bad row${problems.length > 1 ? 's' : ''} in ${file}: nothing queued`);
    err.exitCode = 2;
    throw err;
  }
  if (rows === 0) {
    process.stderr.write(`wfa-queue: ${file} holds no row: queued nothing\n`);
    return 0;
  }

  // Pass 2: add in batches. A job id already in Redis (queued, done or failed) is left
  // alone; BullMQ would ignore its add anyway, the check only makes the count honest.
  const client = await connect(args.opts.redis, connectTimeoutS);
  const queue = new Queue(args.queue, { connection: client, prefix: PREFIX });
  const jobOpts = { attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false,
                    removeOnFail: false };
  let added = 0;
  let already = 0;
  let batch = [];
  const flush = async () => {
    const exists = await client.pipeline(batch.map((j) => ['exists', `${PREFIX}:${args.queue}:${j.opts.jobId}`])).exec();
    const seen = new Set();
    const fresh = batch.filter((j, i) => {
      const dup = exists[i][1] === 1 || seen.has(j.opts.jobId);
      seen.add(j.opts.jobId);
      return !dup;
    });
    if (fresh.length > 0) await queue.addBulk(fresh);
    added += fresh.length;
    already += batch.length - fresh.length;
    batch = [];
  };
  try {
    await forEachRow(file, async (inputs, row) => {
      batch.push({ name: 'row', data: { row, inputs }, opts: { ...jobOpts, jobId: jobId(inputs) } });
      if (batch.length >= 500) await flush();
    }, problems);
    if (batch.length > 0) await flush();
  } finally {
    await queue.close();
    await client.quit().catch(() => {});
  }
  process.stdout.write(`${JSON.stringify({ queue: args.queue, rows, enqueued: added, already_queued: already })}\n`);
  return 0;
};
