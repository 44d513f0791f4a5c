#!/usr/bin/env python3
"""Prints the side-by-side table of the EDN benchmark from the three JSON result files.

usage: report.py CHSK.json CLOJURE.json EDN_FORMAT.json [--goal-clojure 2] [--goal-edn-format 20]
Exit status 0 whatever the figures (a benchmark, not a test).
"""
import argparse
import json


def load(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return d, {r["name"]: r for r in d["files"]}


NOISY = 0.15
noisy_seen = []


def cell(m):
    """The median, marked with '~' when the runs spread by more than NOISY of it."""
    v = m["mb_per_s"]
    if v and (m["max"] - m["min"]) / v > NOISY:
        noisy_seen.append(True)
        return "~%.2f" % v
    return "%.2f" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chsk")
    ap.add_argument("clojure")
    ap.add_argument("edn_format")
    ap.add_argument("--goal-clojure", type=float, default=2.0)
    ap.add_argument("--goal-edn-format", type=float, default=20.0)
    a = ap.parse_args()
    sd, s = load(a.chsk)
    cd, c = load(a.clojure)
    pd, p = load(a.edn_format)

    notes = []
    verdict = {}
    for op, unit in (("read", "input"), ("print", "output")):
        print()
        print("EDN %s, MB/s of %s text (median of %s runs; 1 MB = 10^6 bytes)" % (op, unit, sd["runs"]))
        head = "%-24s %8s %9s %9s %11s %9s %12s" % (
            "corpus", "MB in", "chsk", "clojure", "edn_format", "chsk/clj", "chsk/edn_fmt")
        print(head)
        print("-" * len(head))
        for name, r in s.items():
            cs = c.get(name)
            ps = p.get(name)
            sv = r[op]["mb_per_s"]
            cv = cs[op]["mb_per_s"] if cs else None
            pv = ps[op]["mb_per_s"] if ps else None
            rc = sv / cv if cv else None
            rp = sv / pv if pv else None
            print("%-24s %8.2f %9s %9s %11s %9s %12s" % (
                name, r["input_bytes"] / 1e6, cell(r[op]),
                cell(cs[op]) if cs else "n/a",
                cell(ps[op]) if ps else "n/a",
                "%.1fx" % rc if rc is not None else "n/a",
                "%.1fx" % rp if rp is not None else "n/a"))
            ok = (rc is not None and rc >= a.goal_clojure) and (rp is not None and rp >= a.goal_edn_format)
            verdict.setdefault(op, []).append((name, ok, rc, rp))
            if op == "read":
                for impl, other in (("clojure", cs), ("edn_format", ps)):
                    if other and other["forms"] != r["forms"]:
                        notes.append("%s: %s read %d top-level forms, chsk %d" % (name, impl, other["forms"], r["forms"]))
                if cs and cs["output_bytes"] != r["output_bytes"]:
                    notes.append("%s: printed size differs from Clojure's pr-str: chsk %d B, clojure %d B"
                                 % (name, r["output_bytes"], cs["output_bytes"]))
                if ps and ps["output_bytes"] != r["output_bytes"]:
                    notes.append("%s: printed size chsk %d B%s, edn_format %d B"
                                 % (name, r["output_bytes"],
                                    " (= clojure)" if cs and cs["output_bytes"] == r["output_bytes"] else "",
                                    ps["output_bytes"]))
    print()
    print("Goal: read and print each >= %gx Clojure and >= %gx edn_format" % (a.goal_clojure, a.goal_edn_format))
    for op in ("read", "print"):
        for name, ok, rc, rp in verdict.get(op, []):
            print("  %-5s %-24s %s" % (op, name, "met" if ok else "MISSED"))
    print()
    print("chsk: release build; clojure %s on Java %s (JIT warm-up %ss per measure); edn_format %s on Python %s"
          % (cd.get("clojure", "?"), cd.get("java", "?"), cd.get("warmup_s", "?"), pd.get("edn_format", "?"), pd.get("python", "?")))
    if noisy_seen:
        print("~ : the timed runs of that figure spread by more than %d%% of the median (other load on"
              " the machine?); see min/max in the JSON, or run again" % (NOISY * 100))
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    main()
