'use strict';
// Row locks: rows that share the value of the --lock-key input never run at once on two
// workers (two links into one primary would each read, merge and PATCH its metadata,
// and the second PATCH would drop what the first added). A lock is a Redis key holding
// its owner's random token with a lease (PX), renewed while the row runs; only its owner
// renews or releases it (compare-and-set in Lua); a worker that dies lets it expire.
const crypto = require('crypto');
const { canonicalJson, sha256 } = require('./canon');

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

function defineLockCommands(client) {
  if (!client.wfaLockRenew) {
    client.defineCommand('wfaLockRenew', { numberOfKeys: 1, lua: RENEW });
    client.defineCommand('wfaLockRelease', { numberOfKeys: 1, lua: RELEASE });
  }
}

// The lock's name for a row, or null when the row has no value for the input.
function lockHash(inputName, inputs) {
  if (!inputs || inputs[inputName] === undefined || inputs[inputName] === null) return null;
  return sha256(`${inputName}\0${canonicalJson(inputs[inputName])}`).slice(0, 32);
}

class RowLock {
  // onLost: called when a renewal finds the lock gone or taken (the row must stop).
  constructor(client, key, leaseMs, onLost) {
    defineLockCommands(client);
    this.client = client;
    this.key = key;
    this.leaseMs = leaseMs;
    this.onLost = onLost;
    this.owner = crypto.randomBytes(16).toString('hex');
    this.timer = null;
  }

  // true when taken; false when another owner holds it.
  async acquire() {
    const ok = await this.client.set(this.key, this.owner, 'PX', this.leaseMs, 'NX');
    if (ok !== 'OK') return false;
    // Renew at a third of the lease: two renewals may be lost before it expires.
    this.timer = setInterval(() => this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    return true;
  }

  async renew() {
    try {
      const kept = await this.client.wfaLockRenew(this.key, this.owner, this.leaseMs);
      if (Number(kept) !== 1 && this.timer) {
        this.stopRenewing();
        this.onLost();
      }
    } catch {
      // Redis unreachable: the next renewal tries again; the lease covers two misses.
    }
  }

  stopRenewing() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async release() {
    this.stopRenewing();
    await this.client.wfaLockRelease(this.key, this.owner);
  }
}

module.exports = { RowLock, lockHash };
