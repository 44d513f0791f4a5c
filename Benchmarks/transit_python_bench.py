#!/usr/bin/env python3
"""Transit read/write throughput of transit-python (PyPI), same measure as transit-bench.

usage: PYTHON transit_python_bench.py [--warmup S] [--time S] [--runs N] [--json] PREFIX...

Run it with the interpreter of a venv that has transit-python and msgpack installed
(run-transit-bench takes it from $TRANSIT_BENCH_PYTHON). transit-python uses its native
extension (transit._native) when it is importable, as it does by default; the JSON output
says which ("native": true/false). For each PREFIX (PREFIX.json and PREFIX.msgpack, written
by `transit-bench --make-corpus`):
  json read:     Reader("json").read(BytesIO(bytes)); MB/s of input
  json write:    Writer(StringIO(), "json").write(value); MB/s of its output (UTF-8 bytes)
  msgpack read:  Reader("msgpack").read(BytesIO(bytes)); MB/s of input
  msgpack write: Writer(BytesIO(), "msgpack").write(value); MB/s of its output
Each measure is warmed up for --warmup seconds, then timed --runs times, each run repeating
the operation for at least --time seconds; the median run is reported (and, as
cpu_mb_per_s in the JSON, the median by process CPU time).
"""
import argparse
import io
import json
import os
import platform
import statistics
import sys
import time

from transit.reader import Reader
from transit.writer import Writer
from transit._accel import native


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
            "iterations": total, "bytes": nbytes}


def bench_prefix(prefix, a):
    with open(prefix + ".json", "rb") as f:
        js = f.read()
    with open(prefix + ".msgpack", "rb") as f:
        mp = f.read()
    value = Reader("json").read(io.BytesIO(js))
    if Reader("msgpack").read(io.BytesIO(mp)) != value:
        sys.exit("transit_python_bench: %s: the JSON and MessagePack files hold different values" % prefix)
    s = io.StringIO()
    Writer(s, "json").write(value)
    js_out = len(s.getvalue().encode("utf-8"))
    b = io.BytesIO()
    Writer(b, "msgpack").write(value)
    mp_out = len(b.getvalue())

    def json_read():
        return len(Reader("json").read(io.BytesIO(js)))

    def json_write():
        out = io.StringIO()
        Writer(out, "json").write(value)
        return out.tell()

    def msgpack_read():
        return len(Reader("msgpack").read(io.BytesIO(mp)))

    def msgpack_write():
        out = io.BytesIO()
        Writer(out, "msgpack").write(value)
        return out.tell()

    measures = {}
    for name, fn, n in (("json_read", json_read, len(js)), ("json_write", json_write, js_out),
                        ("msgpack_read", msgpack_read, len(mp)), ("msgpack_write", msgpack_write, mp_out)):
        print("transit_python_bench: %s" % name, file=sys.stderr, flush=True)
        measures[name] = measure(fn, n, a.warmup, a.time, a.runs)
    name = os.path.basename(prefix)
    r = {"name": name, "json_bytes": len(js), "msgpack_bytes": len(mp)}
    r.update(measures)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("prefixes", nargs="+")
    a = ap.parse_args()
    results = []
    for prefix in a.prefixes:
        r = bench_prefix(prefix, a)
        results.append(r)
        if not a.json:
            print("%s: Transit JSON %d B, MessagePack %d B" % (r["name"], r["json_bytes"], r["msgpack_bytes"]))
            for k in ("json_read", "json_write", "msgpack_read", "msgpack_write"):
                print("  %-24s %9.2f MB/s  (%9.2f MB per CPU-second)" % (k, r[k]["mb_per_s"], r[k]["cpu_mb_per_s"]))
    if a.json:
        try:
            from importlib.metadata import version
            tp_version = version("transit-python")
        except Exception:
            tp_version = "?"
        json.dump({"impl": "transit-python", "transit_python": tp_version, "native": native is not None,
                   "python": platform.python_version(), "warmup_s": a.warmup, "time_s": a.time,
                   "runs": a.runs, "corpora": results}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
