#!/usr/bin/env python3
"""Writes the deterministic "mixed nested" EDN corpus for the EDN benchmark.

usage: gen_corpus.py OUT.edn [--bytes N] [--seed S]

The output is a stream of top-level forms, one Sente-style message per line, as a server
would see them over a channel socket: events `[:ns/ev {...}]`, `[:chsk/recv [...]]`
pushes, batched `[[...] [...]]` buffers and `[event cb-uuid]` requests with replies. Payloads
are maps with keyword keys (plain and namespaced), strings with unicode and escapes, longs,
doubles, nested vectors and sets, #uuid, #inst, a few symbols, nil/true/false.

Same seed and size -> byte-identical file (only Python's own `random` is used).
"""
import argparse
import random

WORDS = (
    "alpha beta gamma delta user room chat message ping pong status online offline "
    "login logout session token cursor page item order cart price total amount note "
    "title body author reply thread channel event state patch delta sync ack error"
).split()
UNICODE_WORDS = [
    "café", "naïve", "Zoë", "Ünïcødé", "straße", "smørrebrød", "Ελληνικά", "русский",
    "日本語", "中文", "한국어", "עברית", "العربية", "emoji 😀", "🚀 launch", "✓ done", "…",
]
NAMESPACES = ["chat", "user", "room", "app", "sync", "cart", "admin", "presence"]
EVENT_NAMES = ["message", "typing", "join", "leave", "update", "patch", "fetch", "ack",
               "subscribe", "unsubscribe", "heartbeat", "notify"]
SYMBOLS = ["clojure.core/inc", "my.app.handlers/on-message", "identity", "sente/ping",
           "app.events/handle!", "x", "foo.bar/baz?"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def word(self):
        return self.r.choice(WORDS)

    def keyword(self, qualified=None):
        if qualified is None:
            qualified = self.r.random() < 0.3
        name = self.word() if self.r.random() < 0.7 else "%s-%s" % (self.word(), self.word())
        if self.r.random() < 0.1:
            name += "?"
        if qualified:
            return ":%s/%s" % (self.r.choice(NAMESPACES), name)
        return ":" + name

    def string(self):
        r = self.r
        n = r.choice([1, 1, 2, 3, 4, 6, 10, 16])
        parts = []
        for _ in range(n):
            x = r.random()
            if x < 0.72:
                parts.append(self.word())
            elif x < 0.84:
                parts.append(r.choice(UNICODE_WORDS))
            elif x < 0.90:
                parts.append(str(r.randint(0, 99999)))
            else:
                parts.append(r.choice(['"quoted"', "back\\slash", "line\nbreak", "tab\there",
                                       "cr\r\nlf", "{not: edn}", "[1 2 3]", "#{set?}"]))
        s = " ".join(parts)
        if r.random() < 0.5:
            s = s[:1].upper() + s[1:]
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
            .replace("\t", "\\t").replace("\r", "\\r") + '"'

    def long(self):
        r = self.r
        x = r.random()
        if x < 0.5:
            return str(r.randint(0, 100))
        if x < 0.8:
            return str(r.randint(-100000, 1000000))
        if x < 0.95:
            return str(r.randint(1_600_000_000_000, 1_800_000_000_000))  # epoch millis
        return str(r.randint(-(2 ** 62), 2 ** 62))

    def double(self):
        r = self.r
        x = r.random()
        if x < 0.4:
            return "%.2f" % r.uniform(0, 1000)
        if x < 0.7:
            return repr(r.uniform(-1, 1))
        if x < 0.85:
            return "%.1f" % r.uniform(-90, 90)
        if x < 0.95:
            return repr(r.uniform(1e6, 1e12))
        return "%.3e" % r.uniform(1e-9, 1e-4)

    def uuid(self):
        r = self.r
        h = "%032x" % r.getrandbits(128)
        h = h[:12] + "4" + h[13:16] + r.choice("89ab") + h[17:]
        return '#uuid "%s-%s-%s-%s-%s"' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def inst(self):
        r = self.r
        return '#inst "%04d-%02d-%02dT%02d:%02d:%02d.%03d-00:00"' % (
            r.randint(2015, 2030), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
            r.randint(0, 59), r.randint(0, 59), r.randint(0, 999))

    def scalar(self):
        r = self.r
        x = r.random()
        if x < 0.28:
            return self.string()
        if x < 0.50:
            return self.long()
        if x < 0.62:
            return self.keyword()
        if x < 0.72:
            return self.double()
        if x < 0.78:
            return r.choice(["true", "false"])
        if x < 0.83:
            return "nil"
        if x < 0.89:
            return self.uuid()
        if x < 0.95:
            return self.inst()
        return r.choice(SYMBOLS)

    def value(self, depth):
        r = self.r
        if depth >= 4 or r.random() < 0.62:
            return self.scalar()
        x = r.random()
        if x < 0.45:
            return self.map(depth + 1)
        if x < 0.80:
            n = r.choice([0, 1, 2, 3, 4, 5, 8, 12])
            return "[" + " ".join(self.value(depth + 1) for _ in range(n)) + "]"
        if x < 0.92:
            n = r.choice([0, 1, 2, 3, 5])
            items = []
            seen = set()
            for _ in range(n):
                v = r.choice([self.keyword, self.long, self.string])()
                if v not in seen:
                    seen.add(v)
                    items.append(v)
            return "#{" + " ".join(items) + "}"
        n = r.choice([1, 2, 3])
        return "(" + " ".join(self.value(depth + 1) for _ in range(n)) + ")"

    def map(self, depth, n=None):
        r = self.r
        if n is None:
            n = r.choice([0, 1, 2, 3, 3, 4, 5, 6, 8])
        keys = []
        seen = set()
        while len(keys) < n:
            k = self.keyword()
            if k not in seen:
                seen.add(k)
                keys.append(k)
        return "{" + ", ".join("%s %s" % (k, self.value(depth)) for k in keys) + "}"

    def payload(self):
        r = self.r
        fields = [(":id", self.uuid()), (":ts", self.long() if r.random() < 0.5 else self.inst())]
        extra = self.map(1, r.choice([2, 3, 4, 5, 6]))[1:-1]
        body = ", ".join("%s %s" % kv for kv in fields)
        return "{" + body + (", " + extra if extra else "") + "}"

    def event(self):
        return "[:%s/%s %s]" % (self.r.choice(NAMESPACES), self.r.choice(EVENT_NAMES), self.payload())

    def message(self):
        r = self.r
        x = r.random()
        if x < 0.45:
            return self.event()
        if x < 0.65:
            return "[:chsk/recv %s]" % self.event()
        if x < 0.80:
            return "[%s %s]" % (self.event(), self.string())  # request with a callback id
        if x < 0.92:
            return "[" + " ".join(self.event() for _ in range(r.randint(2, 5))) + "]"  # buffered batch
        if x < 0.96:
            return r.choice(["[:chsk/ws-ping]", "[:chsk/handshake [%s nil nil true]]" % self.string(),
                             ":chsk/dummy-cb-200", "[:chsk/state [{:type :ws, :open? false} {:type :ws, :open? true, :ever-opened? true}]]"])
        return self.map(0, r.choice([3, 5, 8]))  # a reply


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--bytes", type=int, default=1_500_000, help="approximate size (default 1.5 MB)")
    ap.add_argument("--seed", type=int, default=20261129)
    a = ap.parse_args()
    g = Gen(a.seed)
    size = 0
    lines = []
    while size < a.bytes:
        line = g.message()
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
