#!/usr/bin/env python3
"""EDN read/print throughput of Python's edn_format (PyPI), same measure as edn-bench.

usage: PYTHON edn_format_bench.py [--warmup S] [--time S] [--runs N] [--json] FILE...

Run it with the interpreter of a venv that has edn_format installed (run-edn-bench takes it
from $EDN_BENCH_PYTHON). For each FILE (a stream of EDN values):
  read:  edn_format.loads_all(text) on the whole file; MB/s of input text (UTF-8 bytes).
  print: edn_format.dumps(v) for every top-level value; MB/s of the printed text (UTF-8 bytes).
Each measure is warmed up for --warmup seconds, then timed --runs times, each run repeating
the operation for at least --time seconds; the median run is reported (and, as
cpu_mb_per_s in the JSON, the median by process CPU time).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import edn_format


def measure(fn, nbytes, warmup, run_time, runs):
    sink = 0
    end = time.perf_counter() + warmup
    while True:
        sink += fn()
        if time.perf_counter() >= end:
            break
    rates = []
    cpu_rates = []
    total = 0
    for _ in range(runs):
        n = 0
        cpu_start = time.process_time()
        start = time.perf_counter()
        while True:
            sink += fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= run_time:
                break
        cpu = time.process_time() - cpu_start
        total += n
        rates.append(nbytes * n / elapsed / 1e6)
        cpu_rates.append(nbytes * n / cpu / 1e6)
    return {"mb_per_s": round(statistics.median(rates), 2), "min": round(min(rates), 2),
            "max": round(max(rates), 2), "cpu_mb_per_s": round(statistics.median(cpu_rates), 2),
            "iterations": total, "_sink": sink}


def bench_file(path, a):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    values = edn_format.loads_all(text)
    out_bytes = sum(len(edn_format.dumps(v).encode("utf-8")) for v in values)

    def read():
        return len(edn_format.loads_all(text))

    def dump():
        n = 0
        for v in values:
            n += len(edn_format.dumps(v))
        return n

    r = measure(read, len(data), a.warmup, a.time, a.runs)
    p = measure(dump, out_bytes, a.warmup, a.time, a.runs)
    r.pop("_sink")
    p.pop("_sink")
    name = os.path.basename(path)
    if name.endswith(".edn"):
        name = name[:-4]
    return {"name": name, "path": path, "input_bytes": len(data), "forms": len(values),
            "output_bytes": out_bytes, "read": r, "print": p}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    results = []
    for path in a.files:
        r = bench_file(path, a)
        results.append(r)
        if not a.json:
            print("%-28s %9d B in, %9d B out  read %8.2f MB/s  print %8.2f MB/s" % (
                r["name"], r["input_bytes"], r["output_bytes"], r["read"]["mb_per_s"], r["print"]["mb_per_s"]),
                flush=True)
    if a.json:
        version = getattr(edn_format, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as v
                version = v("edn_format")
            except Exception:
                version = "?"
        json.dump({"impl": "edn_format", "edn_format": version, "python": platform.python_version(),
                   "warmup_s": a.warmup, "time_s": a.time, "runs": a.runs, "files": results}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
