#!/usr/bin/env python3
"""Turns scripts/bench-storm's result lines into the Markdown table of
BENCHMARKS.md (between its bench-storm markers): the median of the rounds
per server, size and arrival, and pxeproxy's ratios to dnsmasq."""
import re
import statistics
import sys

results, target = sys.argv[1], sys.argv[2]
rows = {}
ceiling = ""
for line in open(results):
    if line.startswith("veth ceiling:"):
        ceiling = line.strip()
        continue
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if "clients" not in kv:
        continue
    server = line.split()[0]
    key = (int(kv["n"]), int(kv["spread_ms"]), server)
    rows.setdefault(key, []).append(kv)


def med(runs, k):
    return statistics.median(float(r[k]) for r in runs)


out = ["| machines | arrival | server | completed | retries (disc/4011/tftp/ipxe) "
       "| p50 / p99 / max to menu | server CPU per machine | RSS idle / peak / after |",
       "|---|---|---|---|---|---|---|---|"]
for (n, spread, server), runs in sorted(rows.items(), key=lambda x: (x[0][0], -x[0][1], x[0][2])):
    arrival = "all at once" if spread == 0 else f"over {spread // 1000} s"
    retries = "/".join(str(int(med(runs, "retries_" + s)))
                       for s in ("discover", "4011", "tftp", "ipxe"))
    out.append(
        f"| {n:,} | {arrival} | {server} | {int(med(runs, 'completed')):,} "
        f"| {retries} | {med(runs, 'p50_ms'):.0f} / {med(runs, 'p99_ms'):.0f} / "
        f"{med(runs, 'max_ms'):.0f} ms | {med(runs, 'cpu_ms_per_client'):.2f} ms "
        f"| {med(runs, 'rss_idle_kib') / 1024:.1f} / {med(runs, 'rss_peak_kib') / 1024:.1f} / "
        f"{med(runs, 'rss_after_kib') / 1024:.1f} MiB |")
out.append("")
out.append(f"Rounds per row: {max(len(r) for r in rows.values())} (median shown). {ceiling}")
text = open(target).read()
begin, end = "<!-- bench-storm:begin -->", "<!-- bench-storm:end -->"
block = begin + "\n" + "\n".join(out) + "\n" + end
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text += "\n" + block + "\n"
open(target, "w").write(text)
print("\n".join(out))
