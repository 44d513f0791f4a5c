#!/usr/bin/env python3
"""python-socketio (on aiohttp) request/reply echo server: the Socket.IO peer a user might
pick instead of chsk. An `echo` event is answered through Socket.IO's acknowledgement (its
request/reply), with the payload it got. Loopback only; prints the bound port on the first
stdout line. Driven by load/sio_load.py (chsk bench speaks Sente, not Socket.IO).

  socketio_echo.py [--port 0]
"""
import argparse
import asyncio
import socket

import socketio
from aiohttp import web

sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins=[], logger=False, engineio_logger=False)


@sio.on('echo')
async def echo(sid, data):
    return {'echo': data}


async def main(port):
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    site = web.SockSite(runner, sock, backlog=4096)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    try:
        asyncio.run(main(ap.parse_args().port))
    except KeyboardInterrupt:
        pass
