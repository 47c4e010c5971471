'use strict';
// The tenant the queue tests link: a seed for the emulator, its rows, and the checks of
// the state a run leaves.
const fs = require('fs');
const path = require('path');

// `pairs` primaries with one secondary each (same verified email), and `clusters` of
// 1 primary + 3 secondaries. Every secondary of a cluster adds a different key under the
// same top-level key `prefs`: two of them merged at once each PATCH a whole `prefs`, and
// the later one drops the earlier's key (the lost merge --lock-key prevents).
function buildSeed(demoSeedFile, { pairs, clusters, perSecond }) {
  const demo = JSON.parse(fs.readFileSync(demoSeedFile, 'utf8'));
  const users = [];
  const user = (id, email, userMetadata, appMetadata) => users.push({
    user_id: id, email, email_verified: true, name: email, nickname: id.split('|')[1],
    created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z',
    user_metadata: userMetadata, app_metadata: appMetadata,
  });
  for (let i = 0; i < pairs; i++) {
    user(`auth0|p${i}`, `user${i}@example.com`, { color: 'red', n: i }, { roles: ['user'] });
    user(`auth0|s${i}`, `user${i}@example.com`, { color: 'blue', hobby: 'chess', n: -i }, { plan: 'free', roles: ['beta'] });
  }
  for (let c = 0; c < clusters; c++) {
    user(`auth0|c${c}p`, `cluster${c}@example.com`, { prefs: { base: true } }, { roles: ['user'] });
    for (let k = 0; k < 3; k++) {
      user(`auth0|c${c}s${k}`, `cluster${c}@example.com`, { prefs: { [`k${k}`]: k }, [`only${k}`]: c },
        { roles: [`r${k}`] });
    }
  }
  const seed = { domain: 'queue-tenant.auth0.local', clients: [demo.clients[0]], connections: demo.connections, users };
  if (perSecond) seed.rate_limits = [{ name: 'management', burst: perSecond, per_second: perSecond, path: '/api/v2/*' }];
  return seed;
}

// The rows: pairs, with a cluster's three rows after every `pairs / clusters` pairs (so
// they are taken together, by different workers).
function buildRows({ pairs, clusters }) {
  const rows = [];
  const every = clusters > 0 ? Math.max(1, Math.floor(pairs / clusters)) : Infinity;
  let c = 0;
  for (let i = 0; i < pairs; i++) {
    rows.push({ primary_user_id: `auth0|p${i}`, secondary_user_id: `auth0|s${i}` });
    if ((i + 1) % every === 0 && c < clusters) {
      for (let k = 0; k < 3; k++) rows.push({ primary_user_id: `auth0|c${c}p`, secondary_user_id: `auth0|c${c}s${k}` });
      c += 1;
    }
  }
  for (; c < clusters; c++) {
    for (let k = 0; k < 3; k++) rows.push({ primary_user_id: `auth0|c${c}p`, secondary_user_id: `auth0|c${c}s${k}` });
  }
  return rows;
}

// A copy of a flow file that names the plugin just built and sets connection options.
function flowCopy(flowFile, pluginPath, dir, config = {}, edit = (f) => f) {
  const f = edit(JSON.parse(fs.readFileSync(flowFile, 'utf8')));
  for (const p of f.plugins) p.path = pluginPath;
  for (const c of Object.values(f.connections)) c.config = { ...c.config, ...config };
  const out = path.join(dir, path.basename(flowFile));
  fs.writeFileSync(out, JSON.stringify(f, null, 2));
  return out;
}

// The users of an emulator's state by id, with what a link decides: metadata, and the
// identities as a sorted list (their order follows the order of the links).
function usersOf(state) {
  const out = new Map();
  for (const u of state.users) {
    const ids = (u.identities || []).map((i) => `${i.provider}|${i.user_id}`).sort();
    out.set(u.user_id, { user_metadata: u.user_metadata, app_metadata: u.app_metadata, identities: ids });
  }
  return out;
}

// The env the runner fills the flow's connection from.
function auth0Env(emu, seed) {
  const env = { ...process.env, AUTH0_DOMAIN: emu.domain, AUTH0_CA_FILE: emu.caFile,
    AUTH0_CLIENT_ID: seed.clients[0].client_id, AUTH0_CLIENT_SECRET: seed.clients[0].client_secret };
  delete env.AUTH0_TOKEN;
  return env;
}

module.exports = { buildSeed, buildRows, flowCopy, usersOf, auth0Env };
