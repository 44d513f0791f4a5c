"""Runs an aiohttp application on 127.0.0.1 for the benchmark peers: `--port` (0 picks a free
one), the bound port printed on the first stdout line, until interrupted."""
import argparse
import asyncio
import socket

from aiohttp import web


async def _serve(app, port):
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    site = web.SockSite(runner, sock, backlog=4096)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


def serve(make_app):
    """Parses `--port`, builds the app with `make_app()` and serves it on loopback."""
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    port = ap.parse_args().port
    try:
        asyncio.run(_serve(make_app(), port))
    except KeyboardInterrupt:
        pass
