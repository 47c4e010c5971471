'use strict';
// One rate budget for every worker of a queue, in API requests per second (what the
// plugin asks before each request that counts against the server's rate limit): a
// token bucket in Redis, refilled by Redis' own clock (TIME), so workers on machines whose
// clocks differ share it exactly. Each worker moves small batches from it into its
// native TokenPool when the pool says requests were refused (takeDemand); the plugin asks
// the pool before every request (wfa_host.acquire, ABI 1.1).

// KEYS[1] the bucket (hash: tokens, ts). ARGV: rate per s, burst, tokens wanted.
// Returns {granted, ms until the next token}. A pause (below) makes tokens negative.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local got = 0
if tokens >= 1 then got = math.min(want, math.floor(tokens)) end
tokens = tokens - got
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', math.max(now, ts))
redis.call('PEXPIRE', KEYS[1], 3600000)
local wait = 0
if got < want then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {got, wait}
`;

// KEYS[1] the bucket. ARGV: rate per s, ms. Takes every token and the next ms' worth:
// a rate_limited answer with Retry-After stops every worker's requests for that long,
// not only their new rows.
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, ms = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', -rate * ms / 1000), 'ts', now)
redis.call('PEXPIRE', KEYS[1], 3600000 + ms)
return 1
`;

function defineBudgetCommands(client) {
  if (!client.wfaBudgetTake) {
    client.defineCommand('wfaBudgetTake', { numberOfKeys: 1, lua: TAKE });
    client.defineCommand('wfaBudgetPause', { numberOfKeys: 1, lua: PAUSE });
  }
}

// The bucket holds at most half a second's worth: workers that were idle do not come
// back with a burst the server's own bucket might not have.
function burstOf(rate) {
  return Math.max(1, rate / 2);
}

class SharedBudget {
  constructor(client, key, ratePerS) {
    if (!(ratePerS > 0)) throw new Error('the budget must be a positive number of requests per second');
    defineBudgetCommands(client);
    this.client = client;
    this.key = key;
    this.rate = ratePerS;
    this.burst = burstOf(ratePerS);
  }

  // Takes up to `want` tokens: {granted, waitMs}.
  async take(want) {
    const [granted, waitMs] = await this.client.wfaBudgetTake(this.key, this.rate, this.burst, want);
    return { granted: Number(granted), waitMs: Number(waitMs) };
  }

  async pause(ms) {
    await this.client.wfaBudgetPause(this.key, this.rate, Math.ceil(ms));
  }
}

// Moves tokens from the shared budget into a worker's TokenPool while its plugin asks
// for them. A batch is at most 1/20 s of the budget, so a worker never sits on tokens
// others could use; the pool's demand since the last look says whether to ask at all.
class Feeder {
  constructor(budget, pool, { tickMs = 10, onError = () => {} } = {}) {
    this.budget = budget;
    this.pool = pool;
    this.tickMs = tickMs;
    this.onError = onError;
    this.batch = Math.max(1, Math.ceil(budget.rate / 20));
    this.granted = 0;
    this.stopped = false;
    this.done = this.loop();
  }

  async loop() {
    while (!this.stopped) {
      let sleep = this.tickMs;
      try {
        const demand = this.pool.takeDemand();
        if (demand > 0 && this.pool.available < this.batch) {
          const { granted, waitMs } = await this.budget.take(Math.min(this.batch, demand));
          if (granted > 0) {
            this.pool.add(granted);
            this.granted += granted;
          }
          if (granted < Math.min(this.batch, demand)) sleep = Math.max(1, Math.min(waitMs, 100));
          else sleep = 0;  // the plugin may still be short: look again at once
        }
      } catch (e) {
        this.onError(e);
        sleep = 500;
      }
      if (sleep > 0) await new Promise((r) => setTimeout(r, sleep));
      else await new Promise((r) => setImmediate(r));
    }
  }

  async stop() {
    this.stopped = true;
    await this.done;
  }
}

module.exports = { SharedBudget, Feeder, burstOf };
