#!/usr/bin/env python3
"""Prints the side-by-side table of the EDN benchmark from the three JSON result files.

usage: report.py CHSK.json CLOJURE.json EDN_FORMAT.json [--goal-clojure 2] [--goal-edn-format 20]

Two views of the same runs: MB/s by wall-clock time (the headline figures), and MB/s by
process CPU time (less sensitive to other load on a shared machine; for the JVM it counts
its GC and JIT threads too). Exit status 0 whatever the figures (a benchmark, not a test).
"""
import argparse
import json

NOISY = 0.15


def load(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return d, {r["name"]: r for r in d["files"]}


class Report:
    def __init__(self, a):
        self.a = a
        self.sd, self.s = load(a.chsk)
        self.cd, self.c = load(a.clojure)
        self.pd, self.p = load(a.edn_format)
        self.noisy = False

    def cell(self, m, key):
        v = m.get(key)
        if v is None:
            return "n/a"
        if key == "mb_per_s" and v and (m["max"] - m["min"]) / v > NOISY:
            self.noisy = True
            return "~%.2f" % v
        return "%.2f" % v

    def table(self, op, key, title):
        """Prints one table; returns [(corpus, ratio vs clojure, ratio vs edn_format)]."""
        unit = "input" if op == "read" else "output"
        print()
        print("EDN %s, MB/s of %s text%s (median of %s runs; 1 MB = 10^6 bytes)"
              % (op, unit, title, self.sd["runs"]))
        head = "%-24s %8s %9s %9s %11s %9s %12s" % (
            "corpus", "MB in", "chsk", "clojure", "edn_format", "chsk/clj", "chsk/edn_fmt")
        print(head)
        print("-" * len(head))
        out = []
        for name, r in self.s.items():
            cs, ps = self.c.get(name), self.p.get(name)
            sv = r[op].get(key)
            cv = cs[op].get(key) if cs else None
            pv = ps[op].get(key) if ps else None
            rc = sv / cv if sv and cv else None
            rp = sv / pv if sv and pv else None
            print("%-24s %8.2f %9s %9s %11s %9s %12s" % (
                name, r["input_bytes"] / 1e6, self.cell(r[op], key),
                self.cell(cs[op], key) if cs else "n/a",
                self.cell(ps[op], key) if ps else "n/a",
                "%.1fx" % rc if rc is not None else "n/a",
                "%.1fx" % rp if rp is not None else "n/a"))
            out.append((name, rc, rp))
        return out

    def met(self, rc, rp):
        return (rc is not None and rc >= self.a.goal_clojure) and (rp is not None and rp >= self.a.goal_edn_format)

    def run(self):
        wall = {op: self.table(op, "mb_per_s", "") for op in ("read", "print")}
        cpu = {op: self.table(op, "cpu_mb_per_s", " per CPU-second") for op in ("read", "print")}
        print()
        print("Goal: read and print each >= %gx Clojure and >= %gx edn_format"
              % (self.a.goal_clojure, self.a.goal_edn_format))
        print("  %-5s %-24s %-12s %s" % ("", "", "wall-clock", "CPU time"))
        for op in ("read", "print"):
            for (name, rc, rp), (_, crc, crp) in zip(wall[op], cpu[op]):
                print("  %-5s %-24s %-12s %s" % (op, name, "met" if self.met(rc, rp) else "MISSED",
                                                 "met" if self.met(crc, crp) else "MISSED"))
        print()
        print("chsk: release build; clojure %s on Java %s (JIT warm-up %ss per measure); edn_format %s on Python %s"
              % (self.cd.get("clojure", "?"), self.cd.get("java", "?"), self.cd.get("warmup_s", "?"),
                 self.pd.get("edn_format", "?"), self.pd.get("python", "?")))
        if self.noisy:
            print("~ : the timed runs of that figure spread by more than %d%% of the median (other load on"
                  " the machine?); see min/max in the JSON, or run again" % (NOISY * 100))
        for name, r in self.s.items():
            cs, ps = self.c.get(name), self.p.get(name)
            for impl, other in (("clojure", cs), ("edn_format", ps)):
                if other and other["forms"] != r["forms"]:
                    print("note: %s: %s read %d top-level forms, chsk %d" % (name, impl, other["forms"], r["forms"]))
            if cs and cs["output_bytes"] != r["output_bytes"]:
                print("note: %s: printed size differs from Clojure's pr-str: chsk %d B, clojure %d B"
                      % (name, r["output_bytes"], cs["output_bytes"]))
            if ps and ps["output_bytes"] != r["output_bytes"]:
                print("note: %s: printed size chsk %d B%s, edn_format %d B"
                      % (name, r["output_bytes"],
                         " (= clojure)" if cs and cs["output_bytes"] == r["output_bytes"] else "",
                         ps["output_bytes"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chsk")
    ap.add_argument("clojure")
    ap.add_argument("edn_format")
    ap.add_argument("--goal-clojure", type=float, default=2.0)
    ap.add_argument("--goal-edn-format", type=float, default=20.0)
    Report(ap.parse_args()).run()


if __name__ == "__main__":
    main()
