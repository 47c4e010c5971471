// Side-by-side Markdown table of plugin_link_bench and node_sdk_link.mjs JSON reports.
// Usage: node report.mjs plugin.json node.json
import { readFileSync } from "node:fs";

const [plugin, node] = process.argv.slice(2, 4).map((f) => JSON.parse(readFileSync(f, "utf8")));
const f = (x, d = 1) => (x === undefined || x === null ? "–" : Number(x).toFixed(d));
const rows = [];
const row = (what, p, n, note = "") => rows.push(`| ${what} | ${p} | ${n} | ${note} |`);

const rtt = plugin.rtt_ms;
row("round trip (warm GET)", `${f(rtt, 2)} ms`, "same emulator setup", `latency rule ${plugin.latency_ms} ms`);
if (plugin.single) {
  const ps = plugin.single, ns = node.single ?? {};
  row("single link, merge", `${f(ps.merge_ms, 2)} ms (${f(ps.merge_ratio_to_3rtt, 2)}× 3 RTT)`,
      ns.merge_ms ? `${f(ns.merge_ms, 2)} ms (${f(ns.merge_ms / (3 * rtt), 2)}× 3 RTT)` : "–",
      `median of ${ps.samples}`);
  row("single link, no merge", `${f(ps.nomerge_ms, 2)} ms (${f(ps.nomerge_ratio_to_1rtt, 2)}× 1 RTT)`, "–", "");
}
for (const p of plugin.throughput) {
  const n = node.throughput.find((t) => t.concurrency === p.concurrency) ?? {};
  // A closed loop of c links, each 3 round trips, cannot beat c / (3 RTT).
  const floor = p.concurrency / ((3 * rtt) / 1000);
  const ratio = (n.links_per_s ? `plugin ${f(p.links_per_s / n.links_per_s, 2)}×; ` : "") + `round-trip bound ${f(floor)}`;
  row(`links/s, c=${p.concurrency} (${p.links} links)`, f(p.links_per_s), f(n.links_per_s), ratio);
  const cpu = n.cpu_ms_per_link ? `plugin ${f(p.cpu_ms_per_link / n.cpu_ms_per_link, 2)}× of Node` : "";
  row(`CPU ms per link, c=${p.concurrency}`, f(p.cpu_ms_per_link, 3), f(n.cpu_ms_per_link, 3), cpu);
  row(`TLS handshakes / 1000 links, c=${p.concurrency}`, f(p.tls_handshakes_per_1000), f(n.tls_handshakes_per_1000), "");
  row(`emulator CPU (cores busy), c=${p.concurrency}`, f(p.emulator_cpu_share, 2), f(n.emulator_cpu_share, 2),
      "1.00 = the single-threaded emulator is the limit");
}
if (plugin.memory) {
  const m = plugin.memory;
  row(`peak RSS growth over ${m.links} links (c=${m.concurrency})`, `${f(m.peak_growth_kb / 1024)} MiB`,
      node.peak_rss_kb ? `peak RSS ${f(node.peak_rss_kb / 1024)} MiB (whole run)` : "–",
      `plugin peak RSS ${f(m.peak_rss_kb / 1024)} MiB; ${f(m.links_per_s)} links/s and ${f(m.tls_handshakes_per_1000)} TLS handshakes / 1000 links over that run`);
}
if (plugin.rate_limit) {
  const r = plugin.rate_limit;
  row(`bucket ${r.burst} burst / ${r.per_second} per s: sustained links/s`, `${f(r.sustained_links_per_s, 2)}`, "–",
      `ideal ${f(r.ideal_links_per_s, 2)}; c=${r.concurrency}, ${r.seconds} s`);
  row("  requests answered 429", `${f(100 * r.share_429)} % (${r.rate_limited} of ${r.requests})`, "–",
      `${r.links_failed} links failed`);
}
console.log("| measure | plugin | Node SDK | note |\n|---|---|---|---|\n" + rows.join("\n"));
