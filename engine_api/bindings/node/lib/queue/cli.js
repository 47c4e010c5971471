'use strict';
// wfa-queue: the flows flowrun runs, as BullMQ jobs on workers over Redis (issue 14).
//   enqueue FLOW --inputs-file ROWS.jsonl --redis URL [--queue NAME]
//   worker FLOW --redis URL [--queue NAME] [--concurrency N] [--lock-key INPUT] [--budget REQ_PER_S]
//   status --redis URL [--queue NAME]
//   results --redis URL [--queue NAME]
// Exit codes: 0 done; 1 a runtime failure (Redis unreachable past --connect-timeout, or
// `results` printed a failed row); 2 usage, a flow that does not validate, a bad row.
const { UsageError } = require('./redis');

const USAGE = `usage:
  wfa-queue enqueue FLOW --inputs-file ROWS.jsonl --redis URL [--queue NAME] [--attempts N] [--backoff-ms MS]
  wfa-queue worker FLOW --redis URL [--queue NAME] [--concurrency N] [--lock-key INPUT] [--budget REQ_PER_S]
                   [--lease-ms MS] [--grace S] [--log-level trace|debug|info|warn|error]
  wfa-queue status --redis URL [--queue NAME]
  wfa-queue results --redis URL [--queue NAME]
  (enqueue, status, results: [--connect-timeout S], default 30)`;

const COMMANDS = {
  enqueue: { flow: true, opts: ['inputs-file', 'redis', 'queue', 'attempts', 'backoff-ms', 'connect-timeout'] },
  worker: {
    flow: true,
    opts: ['redis', 'queue', 'concurrency', 'lock-key', 'budget', 'lease-ms', 'grace', 'log-level'],
  },
  status: { flow: false, opts: ['redis', 'queue', 'connect-timeout'] },
  results: { flow: false, opts: ['redis', 'queue', 'connect-timeout'] },
};

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') throw new UsageError('a command is needed');
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command '${command}'`);
  const args = { command, flow: null, opts: {} };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!spec.opts.includes(name)) throw new UsageError(`${command}: unknown option --${name}`);
      const value = eq > 0 ? a.slice(eq + 1) : rest[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      args.opts[name] = value;
    } else if (spec.flow && args.flow === null) {
      args.flow = a;
    } else {
      throw new UsageError(`${command}: unexpected argument '${a}'`);
    }
  }
  if (spec.flow && !args.flow) throw new UsageError(`${command} needs FLOW`);
  if (!args.opts.redis) throw new UsageError(`${command} needs --redis URL`);
  if (command === 'enqueue' && !args.opts['inputs-file']) throw new UsageError('enqueue needs --inputs-file ROWS.jsonl');
  const queue = args.opts.queue ?? 'wfa';
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(queue)) {
    throw new UsageError(`--queue ${queue}: letters, digits, '_', '.' and '-' only (BullMQ splits keys at ':')`);
  }
  args.queue = queue;
  return args;
}

// A number option: integer or not, within [min, max]; `fallback` when absent.
function numberOpt(args, name, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true } = {}) {
  const text = args.opts[name];
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new UsageError(`--${name} ${text}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`wfa-queue: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  try {
    const run = require(`./cmd-${args.command}`);
    return await run(args, { numberOpt });
  } catch (e) {
    // Expected failures carry a message meant for the user: no stack trace.
    process.stderr.write(`wfa-queue: ${e.message}\n`);
    return e instanceof UsageError || e.exitCode === 2 ? 2 : 1;
  }
}

module.exports = { main, parseArgs };
