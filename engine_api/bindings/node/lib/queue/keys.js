'use strict';
// Redis key names. BullMQ keeps its own under PREFIX:QUEUE:*; ours live beside them under
// PREFIX:QUEUE:wfa:* (a job id is 32 hex digits, never "wfa").
const PREFIX = 'wfa';

function keysOf(queue) {
  const base = `${PREFIX}:${queue}:wfa`;
  return {
    budget: `${base}:budget`,          // the shared token bucket (hash: tokens, ts)
    lock: (hash) => `${base}:lock:${hash}`,  // a --lock-key value's lease
    results: `${base}:results`,        // hash: row -> result line
    rows: `${base}:rows`,              // sorted set of the rows in `results` (score = row)
    done: `${base}:done`,              // + ":" + epoch second: rows ended in that second (expire)
    first: `${base}:first`,            // epoch ms of the first row that ended
  };
}

module.exports = { PREFIX, keysOf };
