#!/usr/bin/env python3
"""Instructions and simulated cache misses per operation, for machines without perf.

    benchmarks/cachesim.py BENCH_BINARY FILTER [--min-time S] [--ll BYTES] [--top N]

Runs one benchmark (FILTER, a --benchmark_filter regex matching one benchmark) under
callgrind's cache simulation. Only the measured operations are counted (the benchmarks
bracket them with CALLGRIND_TOGGLE_COLLECT; for the live series, instrumentation is also
turned on only for its last warm-up sweeps, so building the site runs at near native speed). The caches
simulated: I1/D1 32 KiB 8-way, LL (last level) --ll bytes, 16-way, 64 B lines; by default
32 MiB, this machine's L3 (valgrind's own detection reads 512 MiB in this VM).

Prints Ir, D1 misses and LL misses per operation (every measured operation of every run
Google Benchmark made: the binary prints the total at exit), and the N functions with the
most LL misses.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("filter")
    p.add_argument("--min-time", default="0.05")
    p.add_argument("--ll", type=int, default=32 * 1024 * 1024)
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--keep", help="also save callgrind's output here (for callgrind_annotate)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        js = os.path.join(tmp, "bench.json")
        # Only the live series turns instrumentation on by itself (CHATROUTE_INSTRUMENT_BEGIN).
        instr = "no" if "live/" in a.filter else "yes"
        cmd = ["valgrind", "--tool=callgrind", f"--instr-atstart={instr}", "--collect-atstart=no", "--cache-sim=yes",
               "--I1=32768,8,64", "--D1=32768,8,64", f"--LL={a.ll},16,64", f"--callgrind-out-file={out}",
               a.binary, f"--benchmark_filter={a.filter}", f"--benchmark_min_time={a.min_time}",
               f"--benchmark_out={js}", "--benchmark_out_format=json"]
        run = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        runs = [b for b in json.load(open(js))["benchmarks"] if "ops" in b]
        if len(runs) != 1:
            sys.exit(f"the filter must match exactly one benchmark, matched {len(runs)}")
        # Google Benchmark runs the benchmark several times and callgrind counts every run:
        # divide by the operations of all runs, which the binary prints at exit.
        total = re.search(r"measured ops in all runs: (\d+)", run.stderr)
        ops = int(total.group(1)) if total else runs[0]["ops"]
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", out], check=True, capture_output=True,
                             text=True).stdout
        if a.keep:
            import shutil
            shutil.copy(out, a.keep)
    events = None
    totals = None
    rows = []
    for line in ann.splitlines():
        if line.startswith("Events shown:"):
            events = line.split(":", 1)[1].split()
        tokens = re.sub(r"\(\s*[\d.]+%\)", " ", line).split()
        if events is None or len(tokens) <= len(events) or not re.fullmatch(r"[\d,]+", tokens[0]):
            continue
        values, name = tokens[: len(events)], " ".join(tokens[len(events):])
        if not all(re.fullmatch(r"[\d,]+|\.", v) for v in values):
            continue
        nums = [0 if v == "." else int(v.replace(",", "")) for v in values]
        rec = dict(zip(events, nums))
        if "PROGRAM TOTALS" in name:
            totals = rec
        else:
            rows.append((rec, name))
    if totals is None:
        sys.exit("no totals in callgrind_annotate's output")
    per = lambda k: totals.get(k, 0) / ops
    print(f"{runs[0]['name']}: {ops:.0f} ops; LL {a.ll // 1024 // 1024} MiB")
    print(f"  Ir/op {per('Ir'):.0f}   D1 misses/op {per('D1mr') + per('D1mw'):.2f}   "
          f"LL misses/op {per('DLmr') + per('DLmw') + per('ILmr'):.2f} (reads {per('DLmr'):.2f}, writes {per('DLmw'):.2f})")
    rows.sort(key=lambda r: -(r[0].get("DLmr", 0) + r[0].get("DLmw", 0)))
    for rec, name in rows[: a.top]:
        ll = (rec.get("DLmr", 0) + rec.get("DLmw", 0)) / ops
        if ll < 0.005:
            break
        name = re.sub(r"\s*\[.*\]$", "", name.replace("???:", ""))
        name = re.sub(r"chatroute::(bench::)?|detail::|ManualClock, CountingSink|std::", "", name)
        print(f"    {ll:6.2f} LL misses/op  {rec.get('Ir', 0) / ops:7.0f} Ir/op  {name[:110]}")


if __name__ == "__main__":
    main()
