import ChannelSocket
import ChannelSocketClientNIO
import ChannelSocketVapor
import EDN
import Foundation
import Synchronization
import Testing
import Transit
import Vapor

/// The Vapor adapter over real loopback sockets: our client library (NIO transports) for
/// every transport and generation, as `LoopbackClientTests` runs it against `chsk serve`,
/// then what a client library hides (held polls, hang-ups, bounds, refusals) over raw sockets.
@Suite(.serialized) struct VaporAdapterTests {
    static func client(_ server: VaporEchoServer, type: ClientType, proto: ProtocolOption, uid: String) -> ChannelSocketClient {
        ChannelSocketClient(url: server.url,
                            options: .init(type: type, protocolGeneration: proto, clientID: "vp-\(uid)", params: ["uid": uid],
                                           backoff: Backoff(cap: .seconds(2), floor: .milliseconds(100))),
                            transport: NIOClientTransport())
    }

    static func eventually(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }

    @Test(arguments: [(WireOption.v1, ClientType.ws), (.v1, .ajax), (.v2, .ws), (.v2, .ajax), (.auto, .auto), (.auto, .ajax)])
    func requestReplyAndPush(wire: WireOption, type: ClientType) async throws {
        try await VaporEchoServer.with(wire: wire) { server in
            let proto: ProtocolOption = wire == .v1 ? .v1 : .auto
            let client = Self.client(server, type: type, proto: proto, uid: "u-\(wire.rawValue)")
            let received = Mutex<[String]>([])
            let events = client.events
            let reader = Task { for await e in events { received.withLock { $0.append(e.description) } } }
            await client.start()
            #expect(await Self.eventually { await client.currentState.isOpen })
            let reply = try await client.request(Event("my/req", [.kw("n"): 1]), timeout: .seconds(5))
            #expect(reply[.kw("echo")] == [.kw("my/req"), [.kw("n"): 1]])
            #expect(reply[.kw("uid")] == .string("u-\(wire.rawValue)"))
            try await client.send(Event("test/echo-push", "pushed"))
            #expect(await Self.eventually { received.withLock { $0.contains { $0.contains("[:test/echo \"pushed\"]") } } })
            #expect(await client.currentState.generation == (wire == .v1 ? .v1 : .v2))
            #expect(await client.currentState.type == (type == .ajax ? "ajax" : "ws"))
            // A push from the server side while the client is idle (a held poll for Ajax, past the
            // hang-up check interval, so its answer is streamed).
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await server.server.send(Event("srv/hello", [.kw("n"): 2]), to: .string("u-\(wire.rawValue)")) == 1)
            #expect(await Self.eventually { received.withLock { $0.contains { $0.contains("[:srv/hello {:n 2}]") } } })
            await client.disconnect()
            reader.cancel()
        }
    }

    @Test(arguments: [("transit-json", ClientType.ws), ("transit-json", .ajax), ("transit-json-verbose", .ws)])
    func transitPackers(packer: String, type: ClientType) async throws {
        let transit = TransitPacker(format: packer == "transit-json" ? .json : .jsonVerbose)
        try await VaporEchoServer.with(packer: transit) { server in
            let client = ChannelSocketClient(url: server.url, options: .init(type: type, params: ["uid": "tp"], packer: transit),
                                             transport: NIOClientTransport())
            await client.start()
            #expect(await Self.eventually { await client.currentState.isOpen })
            let data: EDNValue = [.kw("set"): .set([1, 2]), .kw("when"): .instant(Instant(millisecondsSinceEpoch: 1_700_000_000_000)),
                                  .kw("big"): .bigInteger(BigInteger("123456789012345678901234567890")!)]
            let reply = try await client.request(Event("my/req", data), timeout: .seconds(5))
            #expect(reply[.kw("echo")] == [.kw("my/req"), data])
            await client.disconnect()
        }
    }

    /// With WebSockets off, an `auto` client gets the engine's 400 for its upgrade, downgrades
    /// and comes up over Ajax. (It once did not: Vapor's decoder stops parsing a connection
    /// after an upgrade request, so the client's pooled connection that had carried the refused
    /// upgrade never answered its handshake poll; a refused upgrade now closes its connection.)
    @Test func autoFallsBackToAjaxWhenTheServerRefusesWebSockets() async throws {
        try await VaporEchoServer.with(allowWebSocket: false) { server in
            let client = Self.client(server, type: .auto, proto: .auto, uid: "fb")
            await client.start()
            let opened = await Self.eventually { await client.currentState.isOpen }
            let stateNow = await client.currentState
            #expect(opened, "\(stateNow)")
            let state = await client.currentState
            #expect(state.type == "ajax", "\(state)")
            let reply = try await client.request(Event("my/req"), timeout: .seconds(5))
            #expect(reply[.kw("uid")] == "fb")
            await client.disconnect()
        }
    }

    /// A held poll is answered by a push: within the hang-up check interval (a plain response
    /// with `Content-Length`) and after it (a streamed `200`).
    @Test(arguments: [0.05, 0.8])
    func heldPollAnsweredByPush(after seconds: Double) async throws {
        try await VaporEchoServer.with() { server in
            let socket = try RawSocket(port: server.port)
            let base = "/chsk?client-id=raw-1&uid=ann"
            let handshake = try await socket.get(base + "&handshake%3F=1")
            #expect(handshake.status == 200)
            #expect(handshake.body.hasPrefix("[[:chsk/handshake [\"ann\" "))
            try await socket.send("GET \(base) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await Task.sleep(for: .seconds(seconds))
            #expect(try await server.server.send(Event("srv/push", 1), to: "ann", flush: true) == 1)
            let answer = try await socket.readResponse()
            #expect(answer.status == 200)
            #expect(answer.body == "[[[:srv/push 1]] nil]")
            #expect(seconds < 0.2 ? answer.headers["content-length"] != nil : answer.headers["transfer-encoding"] == "chunked")
            // The connection stays open for the next poll (keep-alive).
            try await socket.send("GET \(base) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await server.server.send(Event("srv/push", 2), to: "ann", flush: true) == 1)
            #expect(try await socket.readResponse().body == "[[[:srv/push 2]] nil]")
            socket.close()
        }
    }

    /// A client that hangs up while its poll is held loses nothing: the poll is withdrawn, and
    /// a push made after the hang-up arrives on the client's next poll.
    @Test func hangUpOfAHeldPollKeepsThePush() async throws {
        try await VaporEchoServer.with() { server in
            let base = "/chsk?client-id=raw-2&uid=bob"
            let first = try RawSocket(port: server.port)
            #expect(try await first.get(base + "&handshake%3F=1").status == 200)
            try await first.send("GET \(base) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await Task.sleep(for: .milliseconds(300))
            first.close()
            // Two hang-up check intervals (200 ms each) and some slack.
            try await Task.sleep(for: .milliseconds(700))
            _ = try await server.server.send(Event("srv/after-hangup", "kept"), to: "bob", flush: true)
            let second = try RawSocket(port: server.port)
            let next = try await second.get(base)
            #expect(next.status == 200)
            #expect(next.body == "[[[:srv/after-hangup \"kept\"]] nil]")
            second.close()
        }
    }

    /// Bounds: a WebSocket message over `maxMessageBytes` closes with 1009 (one frame, and a
    /// fragmented one); an Ajax `POST` over it is refused with 413; both are counted.
    @Test func oversizedMessagesAreRefused() async throws {
        try await VaporEchoServer.with(maxMessageBytes: 20_000) { server in
            let ws = try RawSocket(port: server.port)
            #expect(try await ws.upgrade("/chsk?client-id=big-1&uid=big").status == 101)
            _ = try await ws.readFrame()   // the handshake
            try await ws.sendFrame(opcode: 1, Array(repeating: UInt8(ascii: "a"), count: 30_000))
            #expect(try await ws.readCloseCode() == 1009)
            let fragmented = try RawSocket(port: server.port)
            #expect(try await fragmented.upgrade("/chsk?client-id=big-2&uid=big").status == 101)
            _ = try await fragmented.readFrame()
            try await fragmented.sendFrame(opcode: 1, Array(repeating: UInt8(ascii: "a"), count: 15_000), fin: false)
            try await fragmented.sendFrame(opcode: 0, Array(repeating: UInt8(ascii: "a"), count: 15_000), fin: true)
            #expect(try await fragmented.readCloseCode() == 1009)
            // Ajax: a form over maxPostBodyBytes (declared), and a message over the limit inside a
            // form that is not.
            let ajax = try RawSocket(port: server.port)
            let big = String(repeating: "a", count: 70_000)
            let tooBig = try await ajax.post("/chsk", form: "client-id=big-3&uid=big&ppstr=" + big)
            #expect(tooBig.status == 413)
            let ajax2 = try RawSocket(port: server.port)
            let over = try await ajax2.post("/chsk", form: "client-id=big-3&uid=big&ppstr=" + String(repeating: "a", count: 25_000))
            #expect(over.status == 413)
            #expect(server.server.refusalCounts[.messageTooLarge, default: 0] >= 3)
        }
    }

    /// CSRF: without the token, the poll, the upgrade and the POST are refused with Sente's 403;
    /// with it, they pass.
    @Test func csrfIsChecked() async throws {
        try await VaporEchoServer.with(csrfToken: "secret") { server in
            let socket = try RawSocket(port: server.port)
            let poll = try await socket.get("/chsk?client-id=c1&uid=eve&handshake%3F=1")
            #expect(poll.status == 403)
            #expect(poll.body == "Bad CSRF token")
            let upgrade = try await RawSocket(port: server.port).upgrade("/chsk?client-id=c1&uid=eve")
            #expect(upgrade.status == 403)
            #expect(upgrade.body == "Bad CSRF token")
            let post = try await RawSocket(port: server.port).post("/chsk", form: "client-id=c1&uid=eve&ppstr=%5B%5B%3Aa%2Fb%5D%20nil%5D")
            #expect(post.status == 403)
            let good = try await RawSocket(port: server.port).get("/chsk?client-id=c1&uid=eve&handshake%3F=1", headers: ["X-CSRF-Token": "secret"])
            #expect(good.status == 200)
            let goodWS = try await RawSocket(port: server.port).upgrade("/chsk?client-id=c2&uid=eve", headers: ["X-CSRF-Token": "secret"])
            #expect(goodWS.status == 101)
            #expect(server.server.refusalCounts[.csrf, default: 0] == 3)
        }
    }

    /// `Upgrade: websocket` without `Connection: upgrade` is Sente's 400, not a bare 101.
    @Test func brokenUpgradeIs400() async throws {
        try await VaporEchoServer.with() { server in
            let socket = try RawSocket(port: server.port)
            let reply = try await socket.get("/chsk?client-id=u1&uid=x", headers: ["Upgrade": "websocket"])
            #expect(reply.status == 400)
            #expect(reply.body == "WebSocket upgrade failed")
        }
    }

    /// Graceful shutdown answers a held poll (`:chsk/timeout`) and closes a WebSocket with 1001,
    /// promptly: Vapor's server does not wait for the poll's timeout.
    @Test func shutdownAnswersHeldPollsAndClosesWebSockets() async throws {
        try await VaporEchoServer.with() { server in
            let poll = try RawSocket(port: server.port)
            #expect(try await poll.get("/chsk?client-id=s1&uid=sd&handshake%3F=1").status == 200)
            try await poll.send("GET /chsk?client-id=s1&uid=sd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let ws = try RawSocket(port: server.port)
            #expect(try await ws.upgrade("/chsk?client-id=s2&uid=sd").status == 101)
            _ = try await ws.readFrame()
            try await Task.sleep(for: .milliseconds(500))
            let start = Date()
            await server.stop()
            #expect(Date().timeIntervalSince(start) < 8)
            let answer = try await poll.readResponse()
            #expect(answer.body == "[:chsk/timeout nil]")
            #expect(try await ws.readCloseCode() == 1001)
        }
    }

    /// RFC 6455 as `chsk serve` applies it (the engine's NIO handlers, not WebSocketKit, which
    /// takes unmasked frames, repairs bad UTF-8 and echoes invalid close codes): an unmasked
    /// client frame is `1002`, a text message that is not UTF-8 `1007`, a close code that must
    /// never be sent `1002`; each is counted.
    @Test func rfc6455ChecksAreApplied() async throws {
        try await VaporEchoServer.with() { server in
            let unmasked = try RawSocket(port: server.port)
            #expect(try await unmasked.upgrade("/chsk?client-id=rfc-1&uid=rfc").status == 101)
            _ = try await unmasked.readFrame()
            try await unmasked.sendFrame(opcode: 1, Array(#"[[:test/echo-push "unmasked"] nil]"#.utf8), masked: false)
            #expect(try await unmasked.readCloseCode() == 1002)

            let badUTF8 = try RawSocket(port: server.port)
            #expect(try await badUTF8.upgrade("/chsk?client-id=rfc-2&uid=rfc2").status == 101)
            _ = try await badUTF8.readFrame()
            try await badUTF8.sendFrame(opcode: 1, Array(#"[[:test/echo-push "a"#.utf8) + [0xff] + Array(#"b"] nil]"#.utf8))
            #expect(try await badUTF8.readCloseCode() == 1007)

            let badClose = try RawSocket(port: server.port)
            #expect(try await badClose.upgrade("/chsk?client-id=rfc-3&uid=rfc3").status == 101)
            _ = try await badClose.readFrame()
            try await badClose.sendFrame(opcode: 8, [0x03, 0xe7])   // 999: not a valid close code
            #expect(try await badClose.readCloseCode() == 1002)

            #expect(server.server.refusalCounts[.wsProtocolError, default: 0] >= 2)
            #expect(server.server.refusalCounts[.invalidUTF8, default: 0] == 1)
        }
    }

    /// A client that does not read cannot grow the server: pushes to it queue up to
    /// `maxQueuedBytesPerWebSocket`, then its socket is closed, logged and counted; pings it
    /// sends meanwhile are answered with one pong per read, through the same bound.
    @Test func aClientThatDoesNotReadIsClosedAtTheQueueBound() async throws {
        let configuration = ChannelSocketVaporConfiguration(maxQueuedBytesPerWebSocket: 256 << 10, writeStallTimeout: .seconds(30),
                                                            hangUpCheckInterval: .milliseconds(200))
        try await VaporEchoServer.with(configuration: configuration) { server in
            let ws = try RawSocket(port: server.port, receiveBuffer: 4096)
            #expect(try await ws.upgrade("/chsk?client-id=slow-1&uid=slow").status == 101)
            let payload = EDNValue.string(String(repeating: "x", count: 60_000))
            var sent = 0
            let deadline = Date().addingTimeInterval(20)
            while server.server.refusalCounts[.wsQueueFull, default: 0] == 0 && Date() < deadline {
                for _ in 0..<50 { try? await ws.sendFrame(opcode: 9, [1, 2, 3]) }
                sent += (try? await server.server.send(Event("srv/big", payload), to: "slow", flush: true)) ?? 0
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.server.refusalCounts[.wsQueueFull, default: 0] == 1)
            // 256 KiB of 60 KB pushes, plus what the kernel buffers took: far fewer than sent
            // would have been queued without the bound.
            #expect(sent > 5)
        }
    }
}

extension VaporAdapterTests {
    /// A refused upgrade (WebSockets off, a bad CSRF token, a malformed upgrade) is answered
    /// with the engine's status and body, and its connection is then closed by the server, not
    /// left open unable to parse another request; a new connection is served as usual.
    @Test(arguments: ["off", "csrf", "malformed"])
    func refusedUpgradeClosesItsConnection(_ why: String) async throws {
        try await VaporEchoServer.with(csrfToken: why == "csrf" ? "tok" : nil, allowWebSocket: why != "off") { server in
            let socket = try RawSocket(port: server.port)
            let key = why == "malformed" ? "" : "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            try await socket.send("GET /chsk?client-id=r1&uid=a HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\(key)Sec-WebSocket-Version: 13\r\n\r\n")
            let refused = try await socket.readResponse()
            #expect(refused.status == (why == "csrf" ? 403 : 400))
            #expect(refused.body.contains(why == "off" ? "WebSocket disabled" : why == "csrf" ? "CSRF" : "WebSocket upgrade failed"), "\(refused.body)")
            // The same connection: closed by the server (a read ends), not silent until a timeout.
            try? await socket.send("GET /chsk?client-id=r1&uid=a&handshake%3F=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await #expect(throws: RawSocket.Failure.closed) { _ = try await socket.readResponse() }
            let fresh = try RawSocket(port: server.port)
            let csrf = why == "csrf" ? "&csrf-token=tok" : ""
            let handshake = try await fresh.get("/chsk?client-id=r1&uid=a&handshake%3F=1" + csrf)
            #expect(handshake.status == 200)
            #expect(handshake.body.hasPrefix("[[:chsk/handshake [\"a\" "))
        }
    }
}
