#!/usr/bin/env python3
"""Regenerates Fuzz/corpus/<target>/ seeds from ../shared/conformance and hand-made edge
cases. Usage: Fuzz/make-seeds.py [CONFORMANCE_DIR]. Files are named by content hash; each
is under 4 KB."""
import hashlib, json, os, random, re, struct, sys, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "conformance")
OUT = os.path.join(HERE, "corpus")
LIMIT = 4000
rng = random.Random(13)


def put(target, data, cap=None):
    if isinstance(data, str):
        data = data.encode()
    if len(data) >= LIMIT:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def sample(items, n):
    items = sorted(set(items))
    return items if len(items) <= n else rng.sample(items, n)


def readb(p):
    with open(p, "rb") as f:
        return f.read()

# ---------------------------------------------------------------- EDN
edn = []
for root, _, files in os.walk(os.path.join(CONF, "edn-corpus", "shaunxcode-edn-tests")):
    for name in files:
        if name.endswith(".edn"):
            edn.append(readb(os.path.join(root, name)))
with open(os.path.join(CONF, "edn-corpus", "derived-cases.jsonl")) as f:
    derived = [json.loads(l)["input"].encode() for l in f if l.strip()]
hand = [
    "[" * 99 + "]" * 99, "[" * 101 + "]" * 101, "[" * 3000,
    "#_ " * 300 + "1", "#_" * 2000 + "1", "^{} " * 200 + "[]", "^{:a 1} ^:b ^c [1]",
    "1" * 4096, "1" * 4097, "-" + "9" * 4096 + "N", "1." + "5" * 4090 + "M", "1" * 2000 + "/" + "7" * 2000,
    "22/7", "-4/6", "1/0", "0/5", "1e308", "1e309", "-0.0", "##NaN ##Inf ##-Inf", "1.5M 2N 0x1F 017 2r1011 36rZZ",
    '#inst "1985-04-12T23:20:50.52Z"', '#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"', "#my/tag [1 2]",
    "#{1 2 1}", "{:a 1 :a 2}", "#:ns{:a 1 :_/b 2}", r'\a \newline \u00e9 \o377 \space', '"\\u00e9\\t\\"x"',
    ":a/b :/ a/b / nil true false", "(1 #_#_ 2 3 4)", "[1 ; comment\n 2]", "#{[1] (1)}", "{[1] 2 (1) 3}",
    '"unterminated', "#", "#_", "^", "\\", ":", "{:a}", ")", "#?(:clj 1)", "@x", "'x `y ~z",
]
for s in sample(edn, 15) + sample(derived, 20) + [h.encode() for h in hand]:
    put("edn", s)

# ---------------------------------------------------------------- Transit
simple = os.path.join(CONF, "transit-exemplars", "0.8", "simple")
tj, tm = [], []
for name in sorted(os.listdir(simple)):
    p = os.path.join(simple, name)
    if name.endswith(".json"):
        tj.append(readb(p))
    elif name.endswith(".mp"):
        tm.append(readb(p))
tj += [s.encode() for s in [
    '["^ ","~:a",1,"^0",2]', '["~#\'","~:a"]', '["~#ratio",["~n1","~n3"]]', '["~#ratio",["~n4","~n6"]]',
    '["^ ","~:kw",["^0","^0","^1"]]', '["^1"]', '["^ZZ"]', '"~n' + "9" * 4096 + '"', '"~f1.' + "5" * 4000 + '"',
    '["~#cmap",[[1],2,[3],4]]', '["~#set",[1,1]]', '["~#list",[1]]', '["~#unknown",[1]]', '"~m1700000000000"',
    '"~t2026-12-05T00:00:00.000Z"', '"~u531a379e-31bb-4ce1-8690-158dceb64be6"', '"~rhttp://a/b"', '"~bAQID"',
    '"~zNaN"', '"~zINF"', '"~z-INF"', '"~~x"', '"~^x"', '"~`x"', '["~#\'",' * 100 + '1' + ']' * 100,
    '[' * 100 + ']' * 100, '{"~#\'":1}', '{"~:a":{"~:b":{"~:c":1}}}', '["^ ","^ ",1]', '[1e400,-0.0,1E-400]',
]]


def mp_str(s):
    b = s.encode()
    return bytes([0xa0 | len(b)]) + b if len(b) < 32 else b"\xd9" + bytes([len(b)]) + b

tm += [
    b"\x92" + mp_str("~#'") + b"\xc0",                                   # ["~#'" nil]
    b"\x83" + mp_str("^ ") + mp_str("~:a") + b"\x01",                    # map-as-array, cut
    b"\x94" + mp_str("^ ") + mp_str("~:a") + b"\x01" + mp_str("^0"),
    b"\xd4\x01\x02", b"\xc7\x03\x05abc", b"\xd8\x7f" + b"x" * 16,         # ext types
    b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
    b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", b"\xca\x7f\x80\x00\x00",
    b"\xdd\xff\xff\xff\xff", b"\xdf\x7f\xff\xff\xff", b"\xdb\x00\x01\x00\x00x", b"\xc6\xff\xff\xff\xf0",
    b"\x91" * 200 + b"\xc0", b"\xc4\x03abc", b"\xc1", b"\x81\x80\x01",
    b"\x92" + mp_str("~#ratio") + b"\x92" + mp_str("~n3") + mp_str("~n9"),
]
for s in sample(tj[:-31], 25) + tj[-31:]:
    put("transit-json", s)
for s in sample(tm[:-19], 20) + tm[-19:]:
    put("transit-msgpack", s)

# ---------------------------------------------------------------- Sente frames
frames = set()
for root, _, files in os.walk(os.path.join(CONF, "transcripts")):
    for name in files:
        for line in open(os.path.join(root, name), errors="replace"):
            m = re.search(r"\[(?:txt|bin)\] (.*?)(?:\s{2,};;.*)?$", line)
            if m:
                frames.add(m.group(1).strip())
            m = re.search(r"ppstr=(.*?)(?: --|$)", line)
            if m:
                frames.add(m.group(1).strip())
            m = re.search(r"body: (\[.*)$", line)
            if m:
                frames.add(m.group(1).strip())
frames = sample(frames, 15)
hand_frames = ["+[[:chsk/ws-ping]]", "-[:a/b 1]", "+[[:a/b {:x 1}] \"cb1\"]", "+[]", "+", "-", "", "+[1 nil]",
               "[[:a 1] nil]", "[[:a 1]]", "[]", "[[:a] \"cb\" extra]", "+:kw", "-#_#_ 1 2 3", "[" * 120,
               '["~#list",["~:a",1]]', '[["~:a/b",1],null]', '+[["~:a",1],"cb"]', '[["^ ","~:x",1],"^0"]']
for f in frames + hand_frames:
    b = f.encode()
    transit = '"~' in f or '"^' in f
    gen = 4 if f[:1] in "+-" else 8     # v1 / v2 (selector bits 2-3; 0 would detect)
    put("framing", bytes([(1 if transit else 0) + gen]) + b)
    if rng.random() < 0.3:
        put("framing", bytes([1 if transit else 0]) + b)
for m in tm[-19:-9]:
    put("framing", bytes([2]) + b"\x92" + m + b"\xc0")           # msgpack v2 [value nil]
    put("framing", bytes([6]) + b"+" + m)                          # msgpack v1

# ---------------------------------------------------------------- WebSocket frames


def ws(opcode, payload, fin=True, mask=None, rsv=0, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | opcode
    if n < 126:
        h = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        h = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += mask
    return h + payload

K = b"\x37\xfa\x21\x3d"
wsf = [
    ws(1, b"hello", mask=K), ws(1, b"hello"), ws(2, bytes(range(200)), mask=K),
    ws(1, b"+[[:chsk/ws-ping]]", mask=K) + ws(9, b"", mask=K) + ws(8, b"\x03\xe8bye", mask=K),
    ws(1, b"frag", fin=False, mask=K) + ws(0, b"ment", fin=False, mask=K) + ws(0, b"ed", mask=K),
    ws(9, b"x" * 126, mask=K), ws(8, b"", fin=False, mask=K), ws(1, b"x", rsv=0x40, mask=K), ws(3, b"", mask=K),
    ws(2, b"y" * 300, mask=K), ws(2, b"", length=70000, mask=K), ws(2, b"", length=1 << 40, mask=K),
    ws(2, b"", length=(1 << 63) + 5, mask=K), ws(10, b"pong", mask=K) * 5, ws(1, b"z" * 1000, mask=K)[:600],
    ws(1, "é€𝄞".encode(), mask=K), ws(1, b"\xff\xfe", mask=K), ws(8, b"\x00\x00", mask=K), ws(8, b"\x13\x88", mask=K),
    ws(1, b"a" * 126, mask=K), ws(1, b"b" * 65535)[:3000], ws(1, b"abc", mask=b"\x00\x00\x00\x00"),
]
for i, f in enumerate(wsf):
    for sel in (0x01, 0x00, 0x07, 0x03) if i % 3 == 0 else (0x01,):
        put("ws-frames", bytes([sel, rng.randrange(256)]) + f)

# ---------------------------------------------------------------- Ajax requests


def ajax(settings, query="", form="", headers=()):
    return bytes([settings]) + query.encode() + b"\0" + form.encode() + b"\0" + "\n".join(headers).encode()

enc = urllib.parse.quote
ajx = [
    ajax(0, "client-id=c1&handshake%3F=1&udt=1"), ajax(0, "client-id=c1&handshake%3F=true"),
    ajax(2, "client-id=c1&handshake%3F=true"), ajax(4, "client-id=c1"),
    ajax(1, "", "client-id=c1&ppstr=" + enc("[[:test/hello {:via :ajax}] \"ajax-cb\"]")),
    ajax(1, "", "client-id=c1&ppstr=" + enc("[[:test/no-cb 1] nil]")),
    ajax(3, "", "client-id=c1&ppstr=" + enc("+[[:a/b 1] \"cb\"]")), ajax(3, "", "client-id=c1&ppstr=" + enc("-[:a/b 1]")),
    ajax(3, "", "client-id=c1&ppstr=" + enc("+[]")), ajax(1, "", "client-id=c1"), ajax(3, "", "client-id=c1"),
    ajax(9, "", "client-id=c1&ppstr=" + enc('[["~:a/b",1],"cb"]')), ajax(11, "", "client-id=c1&ppstr=" + enc('+[["~:a/b",1],"cb"]')),
    ajax(17, "", "client-id=c1&ppstr=" + enc("[[:a 1] 1]"), ["X-CSRF-Token: tok"]),
    ajax(17, "", "client-id=c1&csrf-token=tok&ppstr=" + enc("[[:a 1] 1]")), ajax(16, "client-id=c1", "", ["x-xsrf-token: nope"]),
    ajax(32, "client-id=c1", "", ["Origin: http://a"]), ajax(32, "client-id=c1", "", ["Referer: http://a/page"]),
    ajax(34, "client-id=c1", "", ["Origin: http://b", "Referer: http://a/x"]),
    ajax(64, "client-id=c1&uid=bob&handshake%3F=1"), ajax(65, "uid=%F0%9F%98%80", "client-id=c%20d&ppstr=%5B%5B%3Aa%5D%5D"),
    ajax(1, "client-id=%ZZ&x=%", "client-id=%e2%82&ppstr=%"), ajax(1, "", "client-id=c1&ppstr=" + enc("[" * 200)),
    ajax(1, "", "client-id=c1&ppstr=" + enc("[[:a " + "#_" * 500 + "1] 1]")), ajax(0, "client-id=+++&a=b=c&&=&"),
    ajax(0, "client-id=c1&client-id=&client-id=c2"), ajax(1, "", "client-id=c1&ppstr=" + enc("[[:a/b \"" + "é" * 300 + "\"] \"cb\"]")),
    ajax(0, "client-id=%09%20"), ajax(1, "", "client-id=c1&ppstr=" + enc("[[:chsk/ws-ping] nil]")),
    ajax(1, "", "client-id=c1&ppstr=" + enc("[:not-an-event \"cb\"]")), ajax(1, "", "client-id=c1&ppstr=" + enc("[[1 2 3] \"cb\"]")),
]
for a in ajx:
    put("ajax-request", a)

for t in sorted(os.listdir(OUT)):
    print(t, len(os.listdir(os.path.join(OUT, t))))
