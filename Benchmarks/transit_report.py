#!/usr/bin/env python3
"""Prints the side-by-side table of the Transit benchmark from its two JSON result files.

usage: transit_report.py CHSK.json TRANSIT_PYTHON.json [--goal-python 10] [--goal-jsonser 1]

One table by wall-clock time (the headline figures) and one by process CPU time (less
sensitive to other load on a shared machine). Exit status 0 whatever the figures.
"""
import argparse
import json

NOISY = 0.15
OPS = (("json", "read"), ("json", "write"), ("msgpack", "read"), ("msgpack", "write"))


def load(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return d, {r["name"]: r for r in d["corpora"]}


class Report:
    def __init__(self, a):
        self.a = a
        self.sd, self.s = load(a.chsk)
        self.pd, self.p = load(a.transit_python)
        self.noisy = False

    def cell(self, m, key):
        if m is None or m.get(key) is None:
            return "-"
        v = m[key]
        if key == "mb_per_s" and v and (m["max"] - m["min"]) / v > NOISY:
            self.noisy = True
            return "~%.2f" % v
        return "%.2f" % v

    @staticmethod
    def ratio(a, b, key):
        if a is None or b is None or not a.get(key) or not b.get(key):
            return None
        return a[key] / b[key]

    def table(self, key, title):
        print()
        print("Transit, MB/s%s (median of %s runs; 1 MB = 10^6 bytes; reads: MB of input, writes: MB of"
              " each one's own output)" % (title, self.sd["runs"]))
        head = "%-16s %-13s %9s %11s %9s %9s %11s" % (
            "corpus", "operation", "chsk", "transit-py", "JSONSer", "chsk/tp", "chsk/JSONSer")
        print(head)
        print("-" * len(head))
        out = {}
        for name, r in self.s.items():
            pr = self.p.get(name, {})
            for fmt, op in OPS:
                k = "%s_%s" % (fmt, op)
                sm, pm = r.get(k), pr.get(k)
                jm = r.get("jsonserialization_%s" % op) if fmt == "json" else None
                rp, rj = self.ratio(sm, pm, key), self.ratio(sm, jm, key)
                print("%-16s %-13s %9s %11s %9s %9s %11s" % (
                    name, "%s %s" % (fmt, op), self.cell(sm, key), self.cell(pm, key), self.cell(jm, key),
                    "%.1fx" % rp if rp is not None else "-", "%.2fx" % rj if rj is not None else "-"))
                out[(name, k)] = (rp, rj)
        return out

    def run(self):
        wall = self.table("mb_per_s", "")
        cpu = self.table("cpu_mb_per_s", " per CPU-second")
        print()
        print("Goals: read and write >= %gx transit-python; Transit-JSON read >= %gx JSONSerialization's"
              " plain parse of the same bytes" % (self.a.goal_python, self.a.goal_jsonser))
        print("  %-16s %-32s %-12s %s" % ("", "", "wall-clock", "CPU time"))
        for name in self.s:
            for fmt, op in OPS:
                k = "%s_%s" % (fmt, op)
                for label, idx, goal in (("%s %s vs transit-python" % (fmt, op), 0, self.a.goal_python),
                                         ("json read vs JSONSerialization", 1, self.a.goal_jsonser)):
                    if idx == 1 and k != "json_read":
                        continue
                    w, c = wall[(name, k)][idx], cpu[(name, k)][idx]
                    print("  %-16s %-32s %-12s %s" % (
                        name, label, "met" if w is not None and w >= goal else "MISSED",
                        "met" if c is not None and c >= goal else "MISSED"))
        self.floors()
        print()
        print("chsk: release build, Foundation JSONSerialization in the same process; transit-python %s"
              " (%s) on Python %s"
              % (self.pd.get("transit_python", "?"),
                 "native extension" if self.pd.get("native") else "pure Python",
                 self.pd.get("python", "?")))
        if self.noisy:
            print("~ : the timed runs of that figure spread by more than %d%% of the median (other load on"
                  " the machine?); see min/max in the JSON, or run again" % (NOISY * 100))
        for name, r in self.s.items():
            pr = self.p.get(name)
            if pr and (pr["json_bytes"] != r["json_bytes"] or pr["msgpack_bytes"] != r["msgpack_bytes"]):
                print("note: %s: the two tools read different files" % name)
            if pr:
                for fmt in ("json", "msgpack"):
                    a, b = r["%s_write" % fmt]["bytes"], pr["%s_write" % fmt]["bytes"]
                    if a != b:
                        print("note: %s: %s output: chsk %d B, transit-python %d B (its own double"
                              " format and key order)" % (name, fmt, a, b))
            js = r.get("jsonserialization_write")
            if js:
                print("note: %s: JSONSerialization writes %d B for the %d B it parsed" % (
                    name, js["bytes"], r["json_bytes"]))


    def floors(self):
        """What no reader or writer of chsk's value model (EDNValue) can beat, and the ratio to
        transit-python it therefore allows at most."""
        for name, r in self.s.items():
            pr = self.p.get(name, {})
            build, walk = r.get("build_floor"), r.get("walk_floor")
            if not build and not walk:
                continue
            print()
            print("Floors of the value model, %s (wall-clock; the best ratio any reader or writer of"
                  " EDNValue could reach):" % name)
            if build:
                scale = r["msgpack_bytes"] / r["json_bytes"]
                for fmt, mb in (("json", build["mb_per_s"]), ("msgpack", build["mb_per_s"] * scale)):
                    pm = pr.get("%s_read" % fmt)
                    best = "%.1fx" % (mb / pm["mb_per_s"]) if pm else "-"
                    print("  build_floor  %7.2f MB/s of %-8s input: %s %s read at most (goal %gx)"
                          % (mb, fmt, best, "transit-python's", self.a.goal_python))
            if walk:
                pm = pr.get("json_write")
                best = "%.1fx" % (walk["mb_per_s"] / pm["mb_per_s"]) if pm else "-"
                print("  walk_floor   %7.2f MB/s of json output:       %s transit-python's json write at most"
                      % (walk["mb_per_s"], best))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chsk")
    ap.add_argument("transit_python")
    ap.add_argument("--goal-python", type=float, default=10.0)
    ap.add_argument("--goal-jsonser", type=float, default=1.0)
    Report(ap.parse_args()).run()


if __name__ == "__main__":
    main()
