'use strict';
// wfa-queue results: the result lines of the rows that ended, as flowrun prints them, by
// row. Exit 1 when one of them failed (flowrun's rule).
const { connect } = require('./redis');
const { keysOf } = require('./keys');
const { forEachLine } = require('./results');

module.exports = async function results(args, { numberOpt }) {
  const connectTimeoutS = numberOpt(args, 'connect-timeout', 30, { min: 0, max: 86400, integer: false });
  const client = await connect(args.opts.redis, connectTimeoutS);
  try {
    let out = '';
    const failed = await forEachLine(client, keysOf(args.queue), (line) => {
      out += `${line}\n`;
    }, async () => {
      if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
      out = '';
    });
    return failed > 0 ? 1 : 0;
  } finally {
    await client.quit().catch(() => {});
  }
};
