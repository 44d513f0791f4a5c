#!/usr/bin/env python3
"""Load generator for a Socket.IO server (peers/socketio_echo.py), the counterpart of
`chsk bench` for the python-socketio peer. Loopback only, bounded in count and time.

  sio_load.py rtt  --port P --pid PID [--connections 100] [--seconds 10] [--json]
  sio_load.py idle --port P --pid PID [--connections 2000] [--hold 5] [--json]

rtt: C clients (WebSocket transport) each `call('echo', {'i': n})` and wait for the
acknowledgement, back to back, for T seconds: round trips per second, per server
CPU-second (/proc/PID/stat), latency percentiles. idle: N clients connected and held; the
server's RSS growth per connection (/proc/PID/status), and how many answer afterwards.
--json prints one object with the keys `chsk bench --json` uses.
"""
import asyncio
import json
import time

import socketio

from ws_load import cli, proc_cpu_seconds, proc_rss_kb


async def connect(url):
    c = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
    await c.connect(url, transports=['websocket'], wait_timeout=10)
    return c


async def rtt(a):
    url = 'http://127.0.0.1:%d' % a.port
    clients = [await connect(url) for _ in range(a.connections)]
    latencies = []
    stop = time.monotonic() + a.seconds
    cpu0 = proc_cpu_seconds(a.pid)

    async def worker(c):
        n = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            await c.call('echo', {'i': n}, timeout=10)
            latencies.append(time.perf_counter() - t0)
            n += 1
        return n

    t0 = time.monotonic()
    counts = await asyncio.gather(*[worker(c) for c in clients])
    elapsed = time.monotonic() - t0
    cpu = proc_cpu_seconds(a.pid) - cpu0
    for c in clients:
        await c.disconnect()
    total = sum(counts)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    result = {'mode': 'rtt', 'connections': a.connections, 'seconds': elapsed, 'round-trips': total,
              'round-trips-per-second': total / elapsed, 'server-cpu-seconds': cpu,
              'operations-per-server-cpu-second': total / cpu if cpu else 0,
              'latency-ms-p50': pct(0.5), 'latency-ms-p99': pct(0.99), 'latency-ms-max': latencies[-1] * 1000}
    if a.json:
        print(json.dumps(result))
    else:
        print('rtt: %(connections)d connections, %(seconds).1f s: %(round-trips)d round trips = %(round-trips-per-second).0f/s; '
              'server CPU %(server-cpu-seconds).2f s = %(operations-per-server-cpu-second).0f per server CPU-second; '
              'p50 %(latency-ms-p50).2f ms p99 %(latency-ms-p99).2f ms' % result)


async def idle(a):
    url = 'http://127.0.0.1:%d' % a.port
    rss0 = proc_rss_kb(a.pid)
    clients = []
    for _ in range(a.connections):
        clients.append(await connect(url))
    await asyncio.sleep(a.hold)
    rss1 = proc_rss_kb(a.pid)

    async def ask(c):
        try:
            await c.call('echo', 1, timeout=10)
            return 1
        except Exception:  # noqa: BLE001
            return 0

    ok = sum(await asyncio.gather(*[ask(c) for c in clients]))
    for c in clients:
        await c.disconnect()
    result = {'mode': 'idle', 'connections': a.connections, 'held': ok,
              'server-rss-kb-per-connection': (rss1 - rss0) / a.connections}
    if a.json:
        print(json.dumps(result))
    else:
        print('idle: %d connections, %d answered afterwards; +%.2f KB server RSS per connection'
              % (a.connections, ok, result['server-rss-kb-per-connection']))


def main():
    cli(rtt, idle, idle_default=2000, idle_max=9000, pid_required=True)


if __name__ == '__main__':
    main()
