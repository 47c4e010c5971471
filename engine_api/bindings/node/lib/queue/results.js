'use strict';
// The result lines of a queue, by row (what `wfa-queue results` prints), and the count
// of rows ended per second (the rate `wfa-queue status` shows), on Redis' clock.

// KEYS: results, rows, first. ARGV: row, line, done key base.
const RECORD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]), ARGV[1])
redis.call('SET', KEYS[3], now, 'NX')
local k = ARGV[3] .. ':' .. t[1]
redis.call('INCR', k)
redis.call('EXPIRE', k, 300)
return 1
`;

// KEYS: first. ARGV: done key base, window in s. Returns {rows ended in the window,
// ms the window really covers (shorter when the first row ended within it)}.
const RATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local first = tonumber(redis.call('GET', KEYS[1]))
if first == nil then return {0, 0} end
local w = tonumber(ARGV[2])
local n = 0
for s = tonumber(t[1]) - w + 1, tonumber(t[1]) do
  n = n + (tonumber(redis.call('GET', ARGV[1] .. ':' .. s)) or 0)
end
local span = math.min(w * 1000, now - first)
return {n, span}
`;

function defineResultCommands(client) {
  if (!client.wfaRecord) {
    client.defineCommand('wfaRecord', { numberOfKeys: 3, lua: RECORD });
    client.defineCommand('wfaRate', { numberOfKeys: 1, lua: RATE });
  }
}

async function record(client, keys, row, line) {
  defineResultCommands(client);
  await client.wfaRecord(keys.results, keys.rows, keys.first, String(row), line, keys.done);
}

// Rows ended per second over the last `windowS` seconds (0 before the first).
async function rate(client, keys, windowS = 30) {
  defineResultCommands(client);
  const [n, spanMs] = (await client.wfaRate(keys.first, keys.done, windowS)).map(Number);
  return spanMs > 0 ? (n * 1000) / Math.max(spanMs, 1000) : 0;
}

// Calls each(line) for every recorded line in row order, 1000 rows at a time, and
// flush() after each batch (memory stays bounded on a queue of millions). Returns how
// many lines were failed rows.
async function forEachLine(client, keys, each, flush = async () => {}) {
  let failed = 0;
  for (let start = 0; ; start += 1000) {
    const rows = await client.zrange(keys.rows, start, start + 999);
    if (rows.length === 0) break;
    const lines = await client.hmget(keys.results, ...rows);
    for (const line of lines) {
      if (line === null) continue;
      if (JSON.parse(line).status !== 'ok') failed += 1;
      each(line);
    }
    await flush();
  }
  return failed;
}

module.exports = { record, rate, forEachLine };
