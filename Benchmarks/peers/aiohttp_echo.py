#!/usr/bin/env python3
"""A plain aiohttp WebSocket echo server: the Python peer a user might pick instead of chsk.

It speaks just enough Sente for `chsk bench echo` and `load/ws_load.py rtt`, like the NIO
floor (Sources/nio-ws-echo): a v2 handshake on connect, every `[event "cb"]` answered
`[true "cb"]`, no EDN parsing. Loopback only; prints the bound port on the first stdout line.

  aiohttp_echo.py [--port 0]
"""
import argparse
import asyncio
import socket

from aiohttp import WSMsgType, web

HANDSHAKE = '[[:chsk/handshake ["bench" nil nil]] nil]'


async def chsk(request):
    ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
    await ws.prepare(request)
    await ws.send_str(HANDSHAKE)
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            continue
        text = msg.data
        # The callback id is the last "…" before the closing bracket: [[…] "cb"].
        if text.endswith('"]'):
            start = text.rfind('"', 0, len(text) - 2)
            if start >= 0:
                await ws.send_str('[true %s]' % text[start:-1])
    return ws


async def main(port):
    app = web.Application()
    app.router.add_get('/chsk', chsk)
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
