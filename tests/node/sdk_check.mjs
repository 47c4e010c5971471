// The official Node SDK (npm auth0 v7) against the auth0-emulator, unchanged:
// get, update, link, unlink and the connections list. Usage (run by CTest through
// tests/emulator/sdk_check_driver.sh, which starts the emulator on the demo seed):
//   NODE_EXTRA_CA_CERTS=<ca.pem> node sdk_check.mjs <port>
import assert from "node:assert/strict";
import { ManagementClient, ManagementError } from "auth0";

const port = process.argv[2];
assert.ok(port, "usage: sdk_check.mjs PORT");
const domain = `127.0.0.1:${port}`;
const primary = "google-oauth2|115015401343387192604";
const secondary = "auth0|5f7c8ec7c33c6c004bbafe82";

// domain -> https://127.0.0.1:PORT/api/v2, audience https://127.0.0.1:PORT/api/v2/ (SDK default).
const mgmt = new ManagementClient({
  domain,
  clientId: "demo-link-client",
  clientSecret: "demo-secret-not-a-real-secret",
  maxRetries: 0,
});

const step = async (name, fn) => {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    console.error(`FAIL ${name}:`, e?.stack ?? e);
    process.exitCode = 1;
    throw e;
  }
};

await step("users.get with fields", async () => {
  const u = await mgmt.users.get(primary, { fields: "user_id,email,user_metadata", include_fields: true });
  assert.equal(u.user_id, primary);
  assert.deepEqual(Object.keys(u).sort(), ["email", "user_id", "user_metadata"]);
  assert.equal(u.user_metadata.color, "red");
});

await step("users.get 404 maps to NotFoundError with Auth0's body", async () => {
  await assert.rejects(mgmt.users.get("auth0|does-not-exist"), (e) => {
    assert.equal(e.statusCode, 404);
    assert.equal(e.body.errorCode, "inexistent_user");
    assert.equal(e.body.message, "The user does not exist.");
    return true;
  });
});

await step("users.update sets root attributes", async () => {
  const u = await mgmt.users.update(primary, { nickname: "jane-sdk" });
  assert.equal(u.nickname, "jane-sdk");
  assert.equal(u.user_metadata.color, "red");
});

// The emulator applies metadata PATCHes with Auth0's top-level rule (a0::test::apply_auth0_patch, tests/support).
await step("users.update merges metadata at the top level", async () => {
  const u = await mgmt.users.update(primary, { user_metadata: { hobby: "sdk", language: null } });
  assert.equal(u.user_metadata.color, "red");
  assert.equal(u.user_metadata.hobby, "sdk");
  assert.equal("language" in u.user_metadata, false);
});

await step("users.identities.link (provider + user_id)", async () => {
  const ids = await mgmt.users.identities.link(primary, { provider: "auth0", user_id: "5f7c8ec7c33c6c004bbafe82" });
  assert.equal(ids.length, 2);
  assert.equal(ids[0].provider, "google-oauth2");
  assert.equal(ids[1].user_id, "5f7c8ec7c33c6c004bbafe82");
  assert.equal(ids[1].profileData.email, "jane.doe@example.com");
  await assert.rejects(mgmt.users.get(secondary), (e) => e.statusCode === 404);
});

await step("link again -> 409 Specified identity already exists.", async () => {
  await assert.rejects(
    mgmt.users.identities.link(primary, { provider: "auth0", user_id: "5f7c8ec7c33c6c004bbafe82" }),
    (e) => e.statusCode === 409 && e.body.message === "Specified identity already exists.");
});

await step("users.identities.delete (unlink)", async () => {
  const ids = await mgmt.users.identities.delete(primary, "auth0", "5f7c8ec7c33c6c004bbafe82");
  assert.equal(ids.length, 1);
  const back = await mgmt.users.get(secondary);
  assert.equal(back.user_id, secondary);
  assert.equal(back.user_metadata, undefined);
});

await step("connections.list with strategy filter and checkpoint paging", async () => {
  const page = await mgmt.connections.list({ strategy: ["auth0"], take: 2 });
  const names = [];
  for await (const c of page) names.push(c.name);
  assert.deepEqual(names.sort(), ["Legacy-Import-Database", "Staff-Database", "Username-Password-Authentication"]);
  const all = [];
  for await (const c of await mgmt.connections.list({})) all.push(c.id);
  assert.equal(all.length, 4);
});

await step("error class is the SDK's ManagementError", async () => {
  await assert.rejects(mgmt.users.get("auth0|nope"), (e) => e instanceof ManagementError);
});
