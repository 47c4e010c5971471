'use strict';
// Connections to Redis: options from a redis:// URL, one-line diagnostics instead of
// ioredis' stack traces, and a bounded first connection for the one-shot commands.
const IORedis = require('ioredis');

class UsageError extends Error {}

// redis://[user:password@]host[:port][/db] or rediss:// (TLS). ioredis options, so that
// BullMQ and our own client connect alike.
function redisOptions(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--redis ${url}: not a URL (redis://HOST:PORT[/DB])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`--redis ${url}: the scheme must be redis:// or rediss://`);
  }
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`--redis ${url}: the database must be a number`);
  const opts = {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    // BullMQ's blocking connections need it, and our commands wait for a reconnection
    // rather than fail while Redis restarts.
    maxRetriesPerRequest: null,
    // Reconnect after 0.5 s, growing to 5 s: no busy loop against a Redis that is down.
    retryStrategy: (times) => Math.min(500 * times, 5000),
  };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') opts.tls = { servername: u.hostname };
  return opts;
}

// Where a URL points, without its password (for messages).
function describe(url) {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return url;
  }
}

// Errors of the connection itself (as ioredis reports them), not of a command.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'EPIPE']);
const isConnectionError = (err) => CONNECTION_CODES.has(err.code) || /Connection is closed/.test(err.message || '');

// One line on stderr when Redis becomes unreachable (then at most every 30 s while it
// stays so) and one when it is back: ioredis emits an error per attempt. Other errors
// (BullMQ's, e.g. a job lock it could not renew while Redis was away) are said as they are.
function connectionReporter(url, log = (line) => process.stderr.write(`${line}\n`)) {
  let down = false;
  let last = 0;
  return {
    error(err) {
      if (!isConnectionError(err)) {
        log(`wfa-queue: ${err.message}`);
        return;
      }
      const now = Date.now();
      if (!down || now - last >= 30000) {
        log(`wfa-queue: Redis at ${describe(url)} unreachable (${err.code || err.message}); retrying`);
        last = now;
      }
      down = true;
    },
    ready() {
      if (down) log(`wfa-queue: Redis at ${describe(url)} reachable again`);
      down = false;
    },
  };
}

// A client for the one-shot commands: waits up to timeoutS seconds for Redis (reporting
// as above while it retries), then fails with a clear message.
async function connect(url, timeoutS, reporter = connectionReporter(url)) {
  const client = new IORedis(redisOptions(url));
  let lastErr;
  client.on('error', (e) => {
    lastErr = e;
    reporter.error(e);
  });
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutS * 1000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (ready) {
    client.on('ready', () => reporter.ready());
    return client;
  }
  client.disconnect();
  const why = (lastErr && (lastErr.code || lastErr.message)) || 'no answer';
  throw new Error(`cannot reach Redis at ${describe(url)} (${why}); gave up after ${timeoutS} s`);
}

module.exports = { UsageError, redisOptions, describe, connectionReporter, connect };
