#!/usr/bin/env python3
"""Attack/soak harness for a running `chsk serve --echo` on loopback (issue "safe to expose").

Repeats each class of attack that once crashed, stalled or exhausted the server, while a probe
client measures round trips on its own WebSocket, and reports per attack: the outcome, the
server's peak RSS (sampled from /proc) and the probe's p99 and max round trip (the stall seen
by everyone else). Every loop is bounded in count and time; only 127.0.0.1 is contacted.

    .build/release/chsk serve --port 0 --echo --log-level warning > port.txt & PID=$!
    python3 Benchmarks/attack.py --port $(head -1 port.txt) --pid $PID [--only NAME ...] [--shutdown]

The last line is `N passed, M failed`: an attack fails when the server died, stopped answering
the probe, or went past the bound named in its line.
"""
import argparse, base64, os, resource, signal, socket, struct, sys, threading, time

HOST = '127.0.0.1'


def rss_mb(pid):
    try:
        for line in open('/proc/%d/status' % pid):
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None


def alive(pid):
    try:
        state = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[0]
        return state not in ('Z', 'X')
    except FileNotFoundError:
        return False


def frame(op, payload, fin=True, mask=b'\x11\x22\x33\x44'):
    n = len(payload)
    h = bytes([(0x80 if fin else 0) | op])
    h += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n) if n < 65536 else bytes([0x80 | 127]) + struct.pack('>Q', n)
    # XOR through big integers: a 400 KB payload masked byte by byte in Python holds the GIL
    # long enough to show up as a stall in the probes' round trips.
    m = (mask * (n // 4 + 1))[:n]
    return h + mask + (int.from_bytes(payload, 'big') ^ int.from_bytes(m, 'big')).to_bytes(n, 'big')


class WS:
    """A raw WebSocket client (blocking), enough to speak Sente v2 EDN."""

    def __init__(self, port, cid, uid='attacker', timeout=5, rcvbuf=None):
        self.s = socket.create_connection((HOST, port), timeout=timeout)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(('GET /chsk?client-id=%s&uid=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
                        'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n' % (cid, uid, key)).encode())
        buf = b''
        while b'\r\n\r\n' not in buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError('upgrade refused')
            buf += d
        head, self.held = buf.split(b'\r\n\r\n', 1)
        if not head.startswith(b'HTTP/1.1 101'):
            raise EOFError(head[:60])

    def need(self, n):
        while len(self.held) < n:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError
            self.held += d

    def read(self):
        self.need(2)
        n, off = self.held[1] & 0x7f, 2
        if n == 126:
            self.need(4); n, off = struct.unpack('>H', self.held[2:4])[0], 4
        elif n == 127:
            self.need(10); n, off = struct.unpack('>Q', self.held[2:10])[0], 10
        self.need(off + n)
        op, p = self.held[0] & 0x0f, self.held[off:off + n]
        self.held = self.held[off + n:]
        return op, p

    def send_text(self, text):
        self.s.sendall(frame(1, text if isinstance(text, bytes) else text.encode()))

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Probe(threading.Thread):
    """Echo round trips every 10 ms on its own socket; RTTs in ms per phase."""

    def __init__(self, port, k=0):
        super().__init__(daemon=True)
        self.port, self.k, self.rtts, self.failures, self.stop_flag = port, k, [], 0, False
        self.lock = threading.Lock()

    def run(self):
        ws = None
        n = 0
        while not self.stop_flag:
            try:
                if ws is None:
                    ws = WS(self.port, 'probe-%d-%d' % (self.k, n), uid='probe', timeout=10)
                    ws.read()
                n += 1
                t0 = time.perf_counter()
                ws.send_text('[[:probe/ping %d] "cb%d"]' % (n, n))
                while True:
                    op, p = ws.read()
                    if b'"cb%d"' % n in p:
                        break
                with self.lock:
                    self.rtts.append((time.perf_counter() - t0) * 1000)
            except (OSError, EOFError):
                with self.lock:
                    self.failures += 1
                if ws:
                    ws.close()
                ws = None
                time.sleep(0.1)
            time.sleep(0.01)

    def take(self):
        with self.lock:
            r, f = self.rtts, self.failures
            self.rtts, self.failures = [], 0
        return r, f


def pct(xs, p):
    if not xs:
        return float('nan')
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


# ---- attacks: each returns (ok, outcome text); bounded in time ----

def deep_discard(a):
    ws = WS(a.port, 'deep1'); ws.read()
    ws.send_text(b'[[:my/req ' + b'#_ ' * 50000 + b'1] "cb"]')
    ws.s.settimeout(10)
    try:
        op, p = ws.read()
        out = 'ws answered %s' % p[:40]
    except (OSError, EOFError):
        out = 'ws no answer (refused as unreadable)'
    ws.close()
    body = b'client-id=deep2&ppstr=' + (b'%23_%20' * 50000) + b'1'
    s = socket.create_connection((HOST, a.port), timeout=10)
    s.sendall(b'POST /chsk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    status = s.recv(100).split(b'\r\n')[0].decode()
    s.close()
    return alive(a.pid), '%s; ajax %s' % (out, status)


def deep_nesting(a):
    results = []
    for name, text in [('vectors', b'[' * 100000), ('maps', b'{:a ' * 100000), ('tags', b'#t ' * 100000),
                       ('meta', b'^:m ' * 100000), ('sets', b'#{' * 100000)]:
        ws = WS(a.port, 'nest-' + name); ws.read()
        ws.send_text(b'[[:my/req ' + text + b'] "cb"]')
        ws.s.settimeout(10)
        try:
            ws.read(); results.append(name + ' answered')
        except (OSError, EOFError):
            results.append(name + ' no answer')
        ws.close()
    return alive(a.pid), ', '.join(results)


def bignum(a):
    out = []
    for name, text in [('ratio-24KB', b'1' * 12000 + b'/' + b'3' * 12000), ('int-1MB', b'7' * 1000000),
                       ('bigdec-100KB', b'1.' + b'3' * 100000 + b'M'), ('exp', b'1.0E999999999M')]:
        t0 = time.time()
        ws = None
        try:
            ws = WS(a.port, 'big-' + name, timeout=60); ws.read()
            # The big number, then a small request on the same socket: its reply comes once
            # the big one has been dealt with (answered, or refused as unreadable).
            t0 = time.time()
            ws.send_text(b'[[:my/req ' + text + b'] "cb"]')
            ws.send_text(b'[[:my/after 1] "cb-after"]')
            ws.s.settimeout(60)
            while b'cb-after' not in ws.read()[1]:
                pass
            out.append('%s %.0f ms' % (name, (time.time() - t0) * 1000))
        except (OSError, EOFError):
            out.append('%s closed/timed out %.0f ms' % (name, (time.time() - t0) * 1000))
        if ws:
            ws.close()
    return alive(a.pid), ', '.join(out)


def flood(sock, data, seconds, on_tick):
    view, pos, t0, last = memoryview(data), 0, time.time(), 0
    sock.setblocking(False)
    while time.time() - t0 < seconds and pos < len(view):
        try:
            pos += sock.send(view[pos:pos + (1 << 20)])
        except BlockingIOError:
            time.sleep(0.002)
        except OSError:
            break
        if time.time() - last > 0.05:
            on_tick(); last = time.time()
    return pos


def ping_flood(a):
    ws = WS(a.port, 'pingflood', rcvbuf=4096); ws.read()
    sent = flood(ws.s, frame(9, b'') * 3000000, 5, a.tick)
    ws.close()
    return alive(a.pid), 'sent %d MB of pings, read no pong' % (sent >> 20)


def echo_flood(a):
    ws = WS(a.port, 'echoflood', rcvbuf=4096); ws.read()
    sent = flood(ws.s, frame(1, b'[[:my/req "' + b'x' * 1000 + b'"] "cb"]') * 40000, 6, a.tick)
    ws.close()
    return alive(a.pid), 'sent %d MB of requests, read no reply' % (sent >> 20)


def deaf_uid_pushes(a):
    socks = []
    for i in range(300):
        w = WS(a.port, 'deaf-%d' % i, uid='deafuid', rcvbuf=4096); socks.append(w)
    # The echo app's [:test/push {:uid U :event EV}] pushes EV to every client of U.
    control = WS(a.port, 'pusher', uid='pusher'); control.read()
    for i in range(10):
        control.send_text('[[:test/push {:uid "deafuid" :event [:my/big [%d "%s"]]}] nil]' % (i, 'x' * 400000))
        for _ in range(5):
            a.tick(); time.sleep(0.1)
    control.close()
    for _ in range(30):
        a.tick(); time.sleep(0.1)
    for w in socks:
        w.close()
    return alive(a.pid), '300 non-reading sockets of one uid, 10 pushes of 400 KB'


def slowloris(a):
    socks, t0 = [], time.time()
    for i in range(3000):
        try:
            s = socket.create_connection((HOST, a.port), timeout=5)
            s.sendall(b'GET /chsk?client-id=slow%d HTTP/1.1\r\nHost: x\r\n' % i)
            socks.append(s)
        except OSError:
            break
    silent = []
    for i in range(1000):
        try:
            silent.append(socket.create_connection((HOST, a.port), timeout=5))
        except OSError:
            break
    opened = len(socks) + len(silent)
    deadline = time.time() + a.header_timeout + 10
    open_now = opened
    while time.time() < deadline:
        for s in socks:
            try:
                s.setblocking(False); s.send(b'X-A: b\r\n')
            except OSError:
                pass
        open_now = 0
        for s in socks + silent:
            try:
                s.setblocking(False)
                if s.recv(1 << 16) == b'':
                    pass
                else:
                    pass
            except BlockingIOError:
                open_now += 1
            except OSError:
                pass
        a.tick()
        if open_now == 0:
            break
        time.sleep(0.5)
    for s in socks + silent:
        s.close()
    return alive(a.pid) and open_now == 0, '%d opened, %d still open after %.0f s' % (opened, open_now, time.time() - t0)


def malformed(a):
    out = []
    for name, req in [('bad-line', b'GARBAGE \x01 NOT HTTP\r\n\r\n'),
                      ('80KB-header', b'GET /chsk HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 80000 + b'\r\n\r\n'),
                      ('10k-headers', b'GET /chsk HTTP/1.1\r\nHost: x\r\n' + b''.join(b'X-H%d: v\r\n' % i for i in range(10000)) + b'\r\n')]:
        s = socket.create_connection((HOST, a.port), timeout=5)
        try:
            s.sendall(req)
        except OSError:
            pass
        try:
            out.append('%s: %s' % (name, s.recv(200).split(b'\r\n')[0].decode()))
        except OSError as e:
            out.append('%s: %s' % (name, type(e).__name__))
        s.close()
    ok = all(('400' in o or '431' in o) for o in out)
    return alive(a.pid) and ok, ', '.join(out)


def push_batch(a):
    ws = WS(a.port, 'batch', uid='batchuid', timeout=15); ws.read()
    control = WS(a.port, 'pusher', uid='pusher'); control.read()
    # Three 400 KB pushes inside one batching window (one message carrying all three requests).
    control.s.sendall(b''.join(frame(1, ('[[:test/push {:uid "batchuid" :event [:my/big [%d "%s"]]}] nil]' % (i, 'x' * 400000)).encode())
                               for i in range(3)))
    sizes, got, t0 = [], 0, time.time()
    while got < 3 and time.time() - t0 < 10:
        try:
            op, p = ws.read()
        except (OSError, EOFError):
            break
        sizes.append(len(p)); got += p.count(b':my/big')
    ws.close(); control.close()
    return alive(a.pid) and got == 3 and max(sizes or [0]) <= (1 << 20), '%d of 3 events in frames of %s bytes' % (got, sizes)


def many_clients_one_uid(a):
    socks = []
    t0 = time.time()
    for i in range(a.uid_clients):
        try:
            socks.append(WS(a.port, 'same-%d' % i, uid='sameuid'))
        except (OSError, EOFError):
            break
        if i % 200 == 0:
            a.tick()
    opened = len(socks)
    for i, w in enumerate(socks):
        w.close()
        if i % 200 == 0:
            a.tick()
    for _ in range(40):
        a.tick(); time.sleep(0.1)
    return alive(a.pid), '%d WebSockets of one uid opened and closed in %.1f s' % (opened, time.time() - t0)


CPU_ATTACKS = {'deep-discard', 'deep-nesting', 'bignum'}
ATTACKS = [('deep-discard', deep_discard), ('deep-nesting', deep_nesting), ('bignum', bignum),
           ('ping-flood', ping_flood), ('echo-flood', echo_flood), ('deaf-uid-pushes', deaf_uid_pushes),
           ('slowloris', slowloris), ('malformed', malformed), ('push-batch', push_batch),
           ('one-uid-clients', many_clients_one_uid)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--pid', type=int, required=True)
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--header-timeout', type=float, default=10)
    ap.add_argument('--uid-clients', type=int, default=5000)
    ap.add_argument('--shutdown', action='store_true', help='end with SIGTERM while idle and slow sockets are open; time the exit')
    ap.add_argument('--max-stall-ms', type=float, default=50)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Four probe connections: the server's event loops each get some, so a stall of any loop shows.
    probes = [Probe(a.port, k) for k in range(4)]
    for p in probes:
        p.start()
    time.sleep(1)
    for p in probes:
        p.take()
    passed = failed = 0
    print('%-16s %-4s %9s %9s %9s  %s' % ('attack', 'ok', 'peakMB', 'p99ms', 'maxms', 'outcome'))
    for name, fn in ATTACKS:
        if a.only and name not in a.only:
            continue
        base = rss_mb(a.pid) or 0
        peak = [base]
        a.tick = lambda: peak.__setitem__(0, max(peak[0], rss_mb(a.pid) or 0))
        try:
            ok, outcome = fn(a)
        except Exception as e:
            ok, outcome = False, 'harness error: %r' % (e,)
        a.tick()
        time.sleep(0.5)
        rtts, failures = [], 0
        for p in probes:
            r, f = p.take()
            rtts += r; failures += f
        p99, mx = pct(rtts, 99), max(rtts) if rtts else float('nan')
        ok = ok and alive(a.pid) and len(rtts) > 0
        # CPU attacks must not stall the others: the probes' worst round trip is the bound.
        if name in CPU_ATTACKS and not (mx <= a.max_stall_ms):
            ok = False
        print('%-16s %-4s %9.1f %9.1f %9.1f  %s (base %.0f MB, %d probes, %d probe failures)' % (
            name, 'ok' if ok else 'FAIL', peak[0], p99, mx, outcome, base, len(rtts), failures), flush=True)
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        if not alive(a.pid):
            break
    for p in probes:
        p.stop_flag = True
    if a.shutdown and alive(a.pid):
        idle = [socket.create_connection((HOST, a.port)) for _ in range(50)]
        for s in idle[:25]:
            s.sendall(b'GET /chsk HTTP/1.1\r\nHost: x\r\n')
        deaf = WS(a.port, 'deaf-shutdown', rcvbuf=4096)
        t0 = time.time()
        os.kill(a.pid, signal.SIGTERM)
        while alive(a.pid) and time.time() - t0 < 60:
            time.sleep(0.05)
        took = time.time() - t0
        ok = not alive(a.pid)
        print('%-16s %-4s %9s %9s %9s  exited %.2f s after SIGTERM with 50 idle/slow sockets and a deaf WebSocket' % (
            'shutdown', 'ok' if ok else 'FAIL', '', '', '', took))
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
