#!/usr/bin/env python3
"""Socket-level replay of the Sente recordings against a running `chsk serve --echo`.

Every C>S frame / HTTP request of a recording (../shared/conformance/transcripts) is sent over
real loopback sockets - WebSocket frames with the Python `websockets` client, Ajax requests with
`curl` - and the S>C frames / HTTP status + body must equal what the real Sente server sent
(handshake data excepted: it carries the server's name; timing and random ids are not compared).

  socket_replay.py --port P --wire v1|v2|auto FILE...     (FILEs relative to the transcripts dir)

Last line: 'N passed, M failed'; exit 1 when anything failed.
"""
import argparse
import asyncio
import os
import re
import subprocess
import sys
import threading
import urllib.parse

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
TRANSCRIPTS = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'conformance', 'transcripts'))
LINE = re.compile(r'^\s*[\d.]+\s+(?:#(\d+)\s+)?(C>S|S>C|--|OPEN|CLOSE)\s*(.*)$')


def parse(path):
    out = []
    for raw in open(os.path.join(TRANSCRIPTS, path), encoding='utf-8'):
        raw = raw.rstrip('\n')
        if raw.startswith(';;'):
            continue
        m = LINE.match(raw)
        if not m:
            continue
        payload = m.group(3)
        if '    ;; ' in payload:
            payload = payload[:payload.index('    ;; ')]
        out.append((int(m.group(1) or 1), m.group(2), payload))
    return out


def normalize_handshake(frame):
    """Handshake data names the server; compare everything else."""
    return re.sub(r'\{:server "[^"]*", :uid-param ("[^"]*"|nil)\}', '{:server _, :uid-param \\1}', frame)


def auto_handshake(frame):
    """Under --wire auto the handshake goes out in v2 form (a 1.14 EDN client reads it)."""
    m = re.match(r'^-\[:chsk/handshake \[(.*)\]\]$', frame)
    if not m:
        return frame
    args = m.group(1)
    if args.count(' nil') == 1 and not args.endswith('}'):
        args += ' nil'
    return '[[:chsk/handshake [%s]] nil]' % args


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)


async def replay_ws(port, path, wire, res):
    base = 'ws://127.0.0.1:%d/chsk' % port
    sockets = {}
    expected = {}
    pending = None
    current = 0

    def want(frame):
        f = normalize_handshake(frame)
        return auto_handshake(f) if wire == 'auto' else f

    async def flush(n):
        frames = expected.pop(n, [])
        ws = sockets.get(n)
        for w in frames:
            try:
                got = await asyncio.wait_for(ws.recv(), 15)
            except Exception as e:  # noqa: BLE001
                got = 'nothing (%s)' % type(e).__name__
            res.check(normalize_handshake(got) == want(w), '%s #%d expected %s got %s' % (path, n, w, got))

    async def flush_all():
        for n in sorted(list(expected)):
            await flush(n)

    for n, direction, p in parse(path):
        if direction == 'OPEN':
            await flush_all()
            current = n
            query = p.split(' ')[0].split('?', 1)[1]
            sockets[n] = await websockets.connect('%s?%s' % (base, query), max_size=2 ** 21)
        elif direction == 'CLOSE':
            await flush_all()
            if n in sockets:
                await sockets.pop(n).close()
        elif direction == 'S>C':
            expected.setdefault(current or n, []).append(p[len('[txt] '):])
        elif direction == 'C>S':
            target = current or n
            await flush(target)
            await sockets[target].send(p[len('[txt] '):])
        else:
            if p.startswith('CONNECT '):
                await flush_all()
                pending = p[len('CONNECT '):].replace('ws://127.0.0.1:8090', 'ws://127.0.0.1:%d' % port).replace(
                    'ws://127.0.0.1:8190', 'ws://127.0.0.1:%d' % port)
            elif p.startswith('rejected as expected') and pending:
                status = int(p.rsplit('HTTP ', 1)[1])
                try:
                    ws = await websockets.connect(pending)
                    await ws.close()
                    got = 101
                except websockets.InvalidStatus as e:
                    got = e.response.status_code
                # A refused upgrade gets Sente's own status (403 Bad CSRF token, ...); only a
                # missing client-id differs: Sente crashes (500), we answer 400.
                expected_status = 400 if status == 500 else status
                res.check(got == expected_status, '%s CONNECT %s expected HTTP %d, got %s' % (path, pending, expected_status, got))
                pending = None
            elif p.startswith('HTTP upgrade response') and pending:
                current += 1
                sockets[current] = await websockets.connect(pending, max_size=2 ** 21)
                pending = None
            elif p.startswith('HTTP GET /push?'):
                await flush_all()
                q = p[len('HTTP GET '):].split(' ')[0]
                status, body = http('GET', port, q)
                res.check(status == 200, '%s push: %s %s' % (path, status, body))
            elif p.startswith('HTTP GET /connected'):
                await flush_all()
                want_body = p.split("-> 200 '", 1)[1][:-1]
                status, body = http('GET', port, '/connected')
                res.check(edn_set_equal(body, want_body), '%s connected: expected %s got %s' % (path, want_body, body))
            elif p.startswith('(no frame within'):
                await flush_all()
                ws = sockets.get(current)
                try:
                    extra = await asyncio.wait_for(ws.recv(), 0.5)
                    res.check(False, '%s expected no frame, got %s' % (path, extra))
                except asyncio.TimeoutError:
                    res.check(True, '')
            elif p.startswith('closing'):
                await flush_all()
                if current in sockets:
                    await sockets.pop(current).close()
            elif p.startswith('idle'):
                await flush_all()
    await flush_all()
    for ws in sockets.values():
        await ws.close()


def edn_set_equal(a, b):
    """connected-uids bodies: same sets, any order."""
    def norm(s):
        return sorted(re.findall(r':(\w+) #\{([^}]*)\}', s))
    return [(k, sorted(v.split())) for k, v in norm(a)] == [(k, sorted(v.split())) for k, v in norm(b)]


def curl(method, port, target, headers=None, data=None, timeout=30):
    cmd = ['curl', '-s', '-o', '-', '-w', '\n%{http_code}', '--max-time', str(timeout)]
    for k, v in (headers or {}).items():
        cmd += ['-H', '%s: %s' % (k, v)]
    if method == 'POST':
        cmd += ['-X', 'POST']
        for k, v in data or []:
            cmd += ['--data-urlencode', '%s=%s' % (k, v)]
    cmd.append('http://127.0.0.1:%d%s' % (port, target))
    out = subprocess.run(cmd, capture_output=True, timeout=timeout + 5).stdout.decode('utf-8')
    body, _, status = out.rpartition('\n')
    return int(status or 0), body


def http(method, port, target):
    # The echo app's routes want the server's CSRF token, as its socket does.
    return curl(method, port, target, {'X-CSRF-Token': 'test-csrf-token'})


class Outstanding(threading.Thread):
    def __init__(self, kind, fn):
        super().__init__(daemon=True)
        self.kind, self.fn, self.result = kind, fn, None

    def run(self):
        self.result = self.fn()


def replay_ajax(port, path, wire, res):
    outstanding = []
    connected_requested = False

    def resolve(status, body, kind):
        cands = [o for o in outstanding if kind is None or o.kind == kind]
        if not cands:
            res.check(False, '%s response %s %s with no outstanding request' % (path, status, body))
            return
        want = (status, normalize_handshake(body))
        for o in cands:
            o.join(30)
        for o in cands:
            if o.result and (o.result[0], normalize_handshake(o.result[1])) == want:
                outstanding.remove(o)
                res.check(True, '')
                return
        res.check(False, '%s expected %s %s, outstanding answered %s' % (path, status, body, [o.result for o in cands]))
        for o in cands:
            outstanding.remove(o)

    for n, direction, p in parse(path):
        if direction == 'C>S':
            if p.startswith('GET /connected'):
                connected_requested = True
                continue
            headers = {}
            m = re.search(r"-H X-CSRF-Token: (\S+)", p) or re.search(r"X-CSRF-Token='([^']*)'", p)
            if m:
                headers['X-CSRF-Token'] = m.group(1)
            if p.startswith('GET '):
                target = p[len('GET '):].split(' ')[0]
                t = Outstanding('GET', lambda target=target, headers=headers: curl('GET', port, target, headers))
            else:
                if "body='" in p:
                    body = p.split("body='", 1)[1].split("'", 1)[0]
                    data = urllib.parse.parse_qsl(body, keep_blank_values=True)
                else:
                    data = [tuple(part.split('=', 1)) for part in p.split(' --data-urlencode ')[1:]]
                t = Outstanding('POST', lambda data=data, headers=headers: curl('POST', port, '/chsk', headers, data))
            t.start()
            outstanding.append(t)
            # curl waits for its answer: give held polls time to park before the next step.
            t.join(0.15)
        elif direction == 'S>C':
            status = int(re.match(r'(\d+)', p).group(1))
            kind = None
            if '  body: ' in p:
                body = p.split('  body: ', 1)[1]
            else:
                m = re.search(r"'(.*)'   \(for (GET|POST)", p)
                body, kind = m.group(1), m.group(2)
            if connected_requested:
                connected_requested = False
                st, got = http('GET', port, '/connected')
                res.check(edn_set_equal(got, body), '%s connected: expected %s got %s' % (path, body, got))
                continue
            if kind is None and outstanding:
                kind = outstanding[0].kind
            resolve(status, body, kind)
        elif p.startswith('(pushed '):
            m = re.match(r'\(pushed (.*) to (\S+) via HTTP /push\)', p)
            q = '/push?uid=%s&ev=%s' % (m.group(2), urllib.parse.quote(m.group(1)))
            st, _ = http('GET', port, q)
            res.check(st == 200, '%s push failed %s' % (path, st))
        elif p.startswith('(POST '):
            m = re.match(r'\(POST (.*) -> (.*)\)$', p)
            st, body = curl('POST', port, '/chsk', {'X-CSRF-Token': 'test-csrf-token'},
                            [('client-id', 'curl-ajax-1'), ('uid', 'bob'), ('ppstr', m.group(1))])
            res.check(body == m.group(2), '%s POST %s: expected %s got %s' % (path, m.group(1), m.group(2), body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--wire', required=True)
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    total_passed, total_failed = 0, 0
    for f in a.files:
        # Start each recording on an empty server (clients of the previous one leave after
        # the reconnect grace period).
        for _ in range(100):
            if ':any #{}' in http('GET', a.port, '/connected')[1]:
                break
            import time
            time.sleep(0.1)
        res = Result()
        if 'ajax' in f:
            replay_ajax(a.port, f, a.wire, res)
        else:
            asyncio.run(replay_ws(a.port, f, a.wire, res))
        print('%s (%s): %d matched, %d failed' % (f, a.wire, res.passed, len(res.failed)))
        for what in res.failed:
            print('  FAIL ' + what)
        total_passed += res.passed
        total_failed += len(res.failed)
    print('%d passed, %d failed' % (total_passed, total_failed))
    sys.exit(1 if total_failed else 0)


if __name__ == '__main__':
    main()
