'use strict';
// Canonical JSON and the ids derived from it. A job's id is a hash of its row's inputs so
// that enqueueing the same rows twice adds nothing (BullMQ ignores an add whose job id
// exists); BullMQ refuses ':' in custom ids, hex has none.
const crypto = require('crypto');

// Members sorted by key at every depth, no spaces: the same inputs give the same text
// whatever order their keys came in.
function canonicalJson(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

// 32 hex digits (128 bits): collisions among 10^7 rows are about 10^-25 likely.
function jobId(inputs) {
  return sha256(canonicalJson(inputs)).slice(0, 32);
}

module.exports = { canonicalJson, jobId, sha256 };
