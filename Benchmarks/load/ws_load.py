#!/usr/bin/env python3
"""First load figures for `chsk serve --echo` (loopback only, bounded in count and time).

  ws_load.py rtt   --port P [--connections 100] [--seconds 10]   request/reply round trips
  ws_load.py idle  --port P [--connections 10000] [--hold 5]     idle WebSocket connections

rtt: C WebSocket clients (v2 framing) each send [[:bench/echo {:i n}] "cb"] and wait for the
echo app's reply, back to back, for T seconds; prints round trips per second, per server
CPU-second (from /proc/PID/stat of the server), and latency percentiles.
idle: opens N clients (handshake received), holds them, prints the server's RSS growth per
connection (from /proc/PID/status) and checks that every client still answers a request.
Needs the server's PID (--pid) for CPU and RSS figures.
"""
import argparse
import asyncio
import json
import os
import resource
import time

import websockets


def proc_cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


async def rtt(a):
    url = 'ws://127.0.0.1:%d/chsk?uid=bench&client-id=' % a.port
    socks = []
    for i in range(a.connections):
        ws = await websockets.connect(url + 'load-%d' % i, max_size=2 ** 20)
        await ws.recv()  # handshake
        socks.append(ws)
    latencies = []
    stop = time.monotonic() + a.seconds
    cpu0 = proc_cpu_seconds(a.pid) if a.pid else 0

    async def worker(ws, k):
        n = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            await ws.send('[[:bench/echo {:i %d}] "c%d"]' % (n, n))
            await ws.recv()
            latencies.append(time.perf_counter() - t0)
            n += 1
        return n

    t0 = time.monotonic()
    counts = await asyncio.gather(*[worker(ws, k) for k, ws in enumerate(socks)])
    elapsed = time.monotonic() - t0
    cpu = (proc_cpu_seconds(a.pid) - cpu0) if a.pid else 0
    for ws in socks:
        await ws.close()
    total = sum(counts)
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    if a.json:
        print(json.dumps({'mode': 'rtt', 'connections': a.connections, 'seconds': elapsed, 'round-trips': total,
                          'round-trips-per-second': total / elapsed, 'server-cpu-seconds': cpu,
                          'operations-per-server-cpu-second': total / cpu if cpu else 0,
                          'latency-ms-p50': pct(0.5), 'latency-ms-p99': pct(0.99), 'latency-ms-max': latencies[-1] * 1000}))
        return
    print('rtt: %d connections, %.1f s: %d round trips = %.0f/s; server CPU %.2f s = %.0f round trips per server CPU-second; '
          'latency p50 %.2f ms p99 %.2f ms max %.2f ms (the Python client is the bottleneck: one core)' %
          (a.connections, elapsed, total, total / elapsed, cpu, total / cpu if cpu else 0, pct(0.5), pct(0.99), latencies[-1] * 1000))


async def idle(a):
    url = 'ws://127.0.0.1:%d/chsk?uid=idle&client-id=' % a.port
    rss0 = proc_rss_kb(a.pid) if a.pid else 0
    socks = []
    t0 = time.monotonic()
    for i in range(a.connections):
        ws = await websockets.connect(url + 'idle-%d' % i, max_size=2 ** 16, ping_interval=None, compression=None)
        await ws.recv()
        socks.append(ws)
    opened = time.monotonic() - t0
    await asyncio.sleep(a.hold)
    rss1 = proc_rss_kb(a.pid) if a.pid else 0
    ok = 0
    for k, ws in enumerate(socks):
        await ws.send('[[:bench/echo %d] "i%d"]' % (k, k))
    for ws in socks:
        try:
            await asyncio.wait_for(ws.recv(), 10)
            ok += 1
        except Exception:  # noqa: BLE001
            pass
    if a.json:
        print(json.dumps({'mode': 'idle', 'connections': a.connections, 'held': ok,
                          'server-rss-kb-per-connection': (rss1 - rss0) / a.connections}))
        for ws in socks:
            await ws.close()
        return
    print('idle: %d connections opened in %.1f s, held %.0f s; %d answered afterwards; server RSS %d KB -> %d KB '
          '(+%.2f KB per connection)' % (a.connections, opened, a.hold, ok, rss0, rss1, (rss1 - rss0) / a.connections))
    for ws in socks:
        await ws.close()


def cli(rtt, idle, idle_default, idle_max, pid_required=False):
    """The command line both load generators share: `rtt`/`idle` mode, port, server PID,
    connections (idle ones capped at idle_max), duration, hold, --json."""
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['rtt', 'idle'])
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--pid', type=int, required=pid_required)
    ap.add_argument('--connections', type=int)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--hold', type=float, default=5)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.mode == 'rtt':
        a.connections = a.connections or 100
        asyncio.run(rtt(a))
    else:
        a.connections = min(a.connections or idle_default, idle_max)
        asyncio.run(idle(a))


def main():
    cli(rtt, idle, idle_default=10000, idle_max=19000)


if __name__ == '__main__':
    main()
