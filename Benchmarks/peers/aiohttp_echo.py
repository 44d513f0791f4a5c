#!/usr/bin/env python3
"""A plain aiohttp WebSocket echo server: the Python peer a user might pick instead of chsk.

It speaks just enough Sente for `chsk bench echo` and `load/ws_load.py rtt`, like the NIO
floor (Sources/nio-ws-echo): a v2 handshake on connect, every `[event "cb"]` answered
`[true "cb"]`, no EDN parsing. Loopback only; prints the bound port on the first stdout line.

  aiohttp_echo.py [--port 0]
"""
from aiohttp import WSMsgType, web

from loopback import serve

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


def make_app():
    app = web.Application()
    app.router.add_get('/chsk', chsk)
    return app


if __name__ == '__main__':
    serve(make_app)
