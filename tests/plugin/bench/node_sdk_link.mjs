// The Node SDK baseline for plugin_link_bench: what users write today with the official
// SDK (npm `auth0` v7): get both users, merge (primary wins, a shallow spread per
// metadata object), update the primary, link. Same generated pairs (auth0|p<i> /
// auth0|s<i>) and the same latency rule as the plugin side. Usage (run.sh starts the
// emulator and passes its base URL; the CA comes through NODE_EXTRA_CA_CERTS):
//   NODE_EXTRA_CA_CERTS=ca.pem node node_sdk_link.mjs --base-url https://127.0.0.1:PORT
//       [--pairs 1000] [--pairs-c1 1000] [--concurrency 1,8,64] [--latency-ms 20] [--single 20]
//       [--emulator-pid PID] [--json FILE]
// Prints a table and one JSON object (last line, and to --json FILE).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

// The SDK is installed in tests/node (scripts/bootstrap), not next to this file.
const { ManagementClient } = createRequire(new URL("../../node/package.json", import.meta.url))("auth0");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const baseUrl = args["base-url"];
if (!baseUrl) {
  console.error("usage: node_sdk_link.mjs --base-url https://127.0.0.1:PORT [--pairs N] ...");
  process.exit(2);
}
const pairs = Number(args.pairs ?? 1000);
const pairsC1 = Math.min(pairs, Number(args["pairs-c1"] ?? 1000));
const concurrency = (args.concurrency ?? "1,8,64").split(",").map(Number);
const latencyMs = Number(args["latency-ms"] ?? 20);
const singles = Number(args.single ?? 20);
const emulatorPid = args["emulator-pid"];

// CPU seconds of the emulator (/proc/PID/stat utime+stime, 100 ticks/s on Linux), to tell
// when it, not the client, is the limit; null without --emulator-pid.
const emulatorCpu = () => {
  if (!emulatorPid) return null;
  const stat = readFileSync(`/proc/${emulatorPid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

// Control API of the emulator (tests/emulator/README.md); fetch trusts NODE_EXTRA_CA_CERTS.
const control = async (method, path, body) => {
  const r = await fetch(`${baseUrl}/__emulator/${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  const text = await r.text();
  return text ? JSON.parse(text) : {};
};

const mgmt = new ManagementClient({
  domain: new URL(baseUrl).host,
  clientId: "demo-link-client",
  clientSecret: "demo-secret-not-a-real-secret",
});

// What a user's script does for one pair.
async function linkPair(i) {
  const primaryId = `auth0|p${i}`, secondaryId = `auth0|s${i}`;
  const [primary, secondary] = await Promise.all([mgmt.users.get(primaryId), mgmt.users.get(secondaryId)]);
  await mgmt.users.update(
    primaryId,
    {
      user_metadata: { ...secondary.user_metadata, ...primary.user_metadata },
      app_metadata: { ...secondary.app_metadata, ...primary.app_metadata },
    },
  );
  await mgmt.users.identities.link(primaryId, { provider: "auth0", user_id: secondaryId.slice("auth0|".length) });
}

// Keeps `conc` links in flight over pairs 0..count-1; per-link latencies in ms.
async function run(count, conc) {
  let next = 0;
  const latencies = [];
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await linkPair(i);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, count) }, worker));
  return latencies;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const report = { side: "node-sdk", latency_ms: latencyMs, pairs };
if (latencyMs > 0) await control("POST", "faults", { method: "*", path: "*", action: "latency", latency_ms: latencyMs });

// Warm: token fetched and a connection open.
await mgmt.users.get("auth0|p0");

if (singles > 0) {
  await control("POST", "reset");
  const lat = await run(singles, 1);
  report.single = { samples: singles, merge_ms: median(lat) };
}

report.throughput = [];
for (const c of concurrency) {
  const count = c === 1 ? pairsC1 : pairs;
  await control("POST", "reset");
  await control("DELETE", "counters");
  const cpu0 = process.cpuUsage();
  const emu0 = emulatorCpu();
  const t0 = performance.now();
  const lat = await run(count, c);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const emuCpu = emu0 === null ? null : emulatorCpu() - emu0;
  const counters = await control("GET", "counters");
  report.throughput.push({
    concurrency: c,
    links: count,
    seconds,
    links_per_s: count / seconds,
    cpu_ms_per_link: (cpu.user + cpu.system) / 1000 / count,
    median_ms: median(lat),
    tls_handshakes_per_1000: (1000 * counters.tls_handshakes) / count,
    requests: counters.requests,
    emulator_cpu_share: emuCpu === null ? null : emuCpu / seconds,
  });
}
report.peak_rss_kb = Math.round(process.resourceUsage().maxRSS);

console.log(`node_sdk_link: auth0 SDK, latency rule ${latencyMs} ms`);
if (report.single) console.log(`single link (get,get,update,link)  ${report.single.merge_ms.toFixed(2)} ms`);
for (const t of report.throughput)
  console.log(
    `c=${t.concurrency} (${t.links} links): ${t.links_per_s.toFixed(1)} links/s, ` +
      `CPU ${t.cpu_ms_per_link.toFixed(3)} ms/link, TLS handshakes/1000 ${t.tls_handshakes_per_1000.toFixed(1)}`,
  );
const text = JSON.stringify(report);
if (args.json) writeFileSync(args.json, text + "\n");
console.log(text);
