#!/usr/bin/env python3
"""python-socketio (on aiohttp) request/reply echo server: the Socket.IO peer a user might
pick instead of chsk. An `echo` event is answered through Socket.IO's acknowledgement (its
request/reply), with the payload it got. Loopback only; prints the bound port on the first
stdout line. Driven by load/sio_load.py (chsk bench speaks Sente, not Socket.IO).

  socketio_echo.py [--port 0]
"""
import socketio
from aiohttp import web

from loopback import serve

sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins=[], logger=False, engineio_logger=False)


@sio.on('echo')
async def echo(sid, data):
    return {'echo': data}


def make_app():
    app = web.Application()
    sio.attach(app)
    return app


if __name__ == '__main__':
    serve(make_app)
