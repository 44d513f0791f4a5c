import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import Testing

/// A server on a manual clock whose app records every event (and runs the echo app on it).
final class EngineHarness: @unchecked Sendable {
    let clock = ManualClock()
    let server: ChannelSocketServer
    private let lock = NSLock()
    private var received: [ServerEventMessage] = []
    private var task: Task<Void, Never>?

    init(wire: WireOption = .auto, echo: Bool = true, cluster: (any ChannelSocketBroker)? = nil,
         configure: (inout ChannelSocketServerOptions) -> Void = { _ in }) throws {
        var options = ChannelSocketServerOptions(userID: { $0.params["uid"].map(EDNValue.string) }, wire: wire)
        options.clock = clock
        configure(&options)
        server = try ChannelSocketServer(options: options, cluster: cluster)
        let app = EchoApp(server: server)
        task = Task { [server] in
            for await message in server.events {
                self.record(message)
                if echo { await app.handle(message) }
            }
        }
    }

    deinit { task?.cancel() }

    private func record(_ m: ServerEventMessage) { lock.lock(); received.append(m); lock.unlock() }

    var events: [ServerEventMessage] { lock.lock(); defer { lock.unlock() }; return received }
    var eventTexts: [String] { events.map { $0.event.description } }

    func request(_ method: String = "GET", _ params: [String: String], headers: [String: String] = [:], ws: Bool = false) -> ConnectionRequest {
        ConnectionRequest(method: method, path: "/chsk", params: params, headers: headers, isWebSocket: ws)
    }

    func connect(uid: String?, client: String) async -> (WebSocketConnection, RecordingWebSocket) {
        var params = ["client-id": client]
        if let uid { params["uid"] = uid }
        let socket = RecordingWebSocket()
        let connection = await server.openWebSocket(request("GET", params, ws: true), outbound: socket)
        return (connection, socket)
    }

    func send(_ c: WebSocketConnection, _ text: String) { c.receive(Array(text.utf8)) }

    /// Starts a request in a task; the box fills when it is answered.
    func start(_ method: String, _ params: [String: String]) -> ResultBox {
        let box = ResultBox()
        let request = request(method, params)
        Task { [server] in box.set(method == "GET" ? await server.poll(request) : await server.post(request)) }
        return box
    }

    func eventually(_ limit: Duration = .seconds(10), step: Duration = .milliseconds(10), _ condition: () -> Bool) async -> Bool {
        var elapsed = Duration.zero
        while !condition() {
            if elapsed >= limit { return false }
            await clock.advance(by: step)
            elapsed += step
        }
        return true
    }
}

@Suite struct ServerEngineTests {
    // MARK: checks

    @Test func securityChecksInSentesOrder() throws {
        let h = try EngineHarness(wire: .v2) { o in
            o.csrf = .token("TOKEN")
            o.allowedOrigins = ["http://site.com"]
            o.authorize = { $0.params["uid"] != "mallory" }
        }
        let s = h.server
        #expect(s.check(h.request("GET", ["uid": "a"]))?.status == 400)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "nope"], headers: ["Origin": "http://site.com"])) == HTTPReply(status: 403, text: "Bad CSRF token"))
        #expect(s.check(h.request("GET", ["client-id": "c"], headers: ["Origin": "http://site.com"]))?.status == 403)
        #expect(s.check(h.request("GET", ["client-id": "c"], headers: ["X-CSRF-Token": "TOKEN", "Origin": "http://site.com"])) == nil)
        #expect(s.check(h.request("POST", ["client-id": "c"], headers: ["x-xsrf-token": "TOKEN", "origin": "http://site.com"])) == nil)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN"], headers: ["Origin": "http://evil.com"])) == HTTPReply(status: 403, text: "Unauthorized origin"))
        // Newest rule: a wrong Origin is not rescued by a good Referer; no Origin falls back to Referer.
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN"], headers: ["Origin": "http://evil.com", "Referer": "http://site.com/page"]))?.status == 403)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN"], headers: ["Referer": "http://site.com/page"])) == nil)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN"], headers: ["Referer": "http://site.com.evil.com/"]))?.status == 403)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN"]))?.status == 403)
        #expect(s.check(h.request("GET", ["client-id": "c", "csrf-token": "TOKEN", "uid": "mallory"], headers: ["Origin": "http://site.com"])) == HTTPReply(status: 401, text: "Unauthorized request"))
        let r = try EngineHarness { o in o.reject = { $0.params["ban"] != nil ? HTTPReply(status: 429, text: "slow down") : nil } }
        #expect(r.server.check(r.request("GET", ["client-id": "c", "ban": "1"]))?.status == 429)
    }

    @Test func optionsAreValidated() {
        #expect(throws: OptionsError.self) { try ChannelSocketServer(options: .init(longPollTimeout: .seconds(60))) }
    }

    // MARK: WebSocket

    @Test func handshakeShapesPerGeneration() async throws {
        let v1 = try EngineHarness(wire: .v1)
        let (_, s1) = await v1.connect(uid: "alice", client: "c1")
        #expect(s1.messages == ["-[:chsk/handshake [\"alice\" nil]]"])
        let (_, n1) = await v1.connect(uid: nil, client: "c2")
        #expect(n1.messages == ["-[:chsk/handshake [:taoensso.sente/nil-uid nil]]"])
        let v2 = try EngineHarness(wire: .v2) { $0.handshakeData = { _ in [.kw("server-time"): 123] } }
        let (_, s2) = await v2.connect(uid: nil, client: "c1")
        #expect(s2.messages == ["[[:chsk/handshake [:sente/nil-uid nil {:server-time 123}]] nil]"])
        let v1data = try EngineHarness(wire: .v1) { $0.handshakeData = { _ in [.kw("server-time"): 123] } }
        let (_, s3) = await v1data.connect(uid: "alice", client: "c1")
        #expect(s3.messages == ["-[:chsk/handshake [\"alice\" nil {:server-time 123}]]"])
    }

    @Test func v1AndV2ClientsOfOneUIDEachGetPushesInTheirFraming() async throws {
        let h = try EngineHarness(wire: .auto)
        let (old, oldSocket) = await h.connect(uid: "alice", client: "browser-1.14")
        let (new, newSocket) = await h.connect(uid: "alice", client: "browser-1.21")
        h.send(old, "+[[:chsk/ws-ping]]")                // a 1.14 client reveals itself
        h.send(new, "[[:chsk/ws-ping] \"p1\"]")          // a 1.21 client too
        #expect(await h.eventually { newSocket.messages.count == 2 })
        #expect(newSocket.messages[1] == "[\"pong\" \"p1\"]")
        try await h.server.send(Event("srv/note", [.kw("n"): 1]), to: "alice")
        #expect(await h.eventually { oldSocket.messages.count == 2 && newSocket.messages.count == 3 })
        #expect(oldSocket.messages.last == "-[[:srv/note {:n 1}]]")
        #expect(newSocket.messages.last == "[[[:srv/note {:n 1}]] nil]")
        // Replies use the framing of the request.
        h.send(old, "+[[:my/req 1] \"cb1\"]")
        h.send(new, "[[:my/req 2] \"cb2\"]")
        #expect(await h.eventually { oldSocket.messages.count == 3 && newSocket.messages.count == 4 })
        #expect(oldSocket.messages.last == "+[{:echo [:my/req 1], :uid \"alice\", :client-id \"browser-1.14\"} \"cb1\"]")
        #expect(newSocket.messages.last == "[{:echo [:my/req 2], :uid \"alice\", :client-id \"browser-1.21\"} \"cb2\"]")
    }

    /// An inline handler answers on the thread that read the message: the replies are
    /// written, in order, before `receive` returns, and nothing reaches `events`.
    @Test func inlineHandlerRepliesWhereTheMessageArrives() async throws {
        let h = try EngineHarness(wire: .v2, echo: false)
        h.server.handleEventsInline { message in
            if message.wantsReply { message.reply([.kw("n"): message.data ?? .null]) }
        }
        let (c, socket) = await h.connect(uid: "u", client: "c")
        for i in 1...3 { h.send(c, "[[:my/req \(i)] \"cb\(i)\"]") }
        #expect(Array(socket.messages.dropFirst()) == ["[{:n 1} \"cb1\"]", "[{:n 2} \"cb2\"]", "[{:n 3} \"cb3\"]"])
        try await Task.sleep(for: .milliseconds(50))
        #expect(h.events.isEmpty)
    }

    /// Regression: the handler once sat in a Mutex as a bare closure, and every event wrapped
    /// it in one more reabstraction thunk, until the stack overflowed (release build, about
    /// 100 000 events). 60 000 events, run on a thread with a small stack, must all arrive.
    @Test func inlineHandlerStaysFlatOverManyEvents() async throws {
        let h = try EngineHarness(wire: .v2, echo: false)
        let count = Atomic<Int>(0)
        h.server.handleEventsInline { _ in count.add(1, ordering: .relaxed) }
        let (c, _) = await h.connect(uid: "u", client: "c")
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<60_000 { h.send(c, "[[:a/b] nil]") }
            done.signal()
        }
        thread.stackSize = 256 * 1024
        thread.start()
        done.wait()
        #expect(count.load(ordering: .relaxed) >= 60_000)
    }

    /// The echo app run inline: replies at once, pushes in their order (batched as usual).
    @Test func echoAppInlineKeepsPushOrder() async throws {
        let h = try EngineHarness(wire: .v2, echo: false)
        let app = Task { await EchoApp(server: h.server).runInline() }
        defer { app.cancel() }
        let (c, socket) = await h.connect(uid: "u", client: "c")
        // runInline installs its handler when its task starts: wait for a reply to appear.
        #expect(await h.eventually {
            h.send(c, "[[:my/ready] \"r\"]")
            return socket.messages.contains { $0.hasSuffix("\"r\"]") }
        })
        let before = socket.messages.count
        h.send(c, "[[:test/echo-push 1] \"p1\"]")
        h.send(c, "[[:test/echo-push 2] nil]")
        h.send(c, "[[:test/echo-push 3] \"p3\"]")
        #expect(socket.messages.count == before + 2, "\(socket.messages)")   // both replies already written
        #expect(await h.eventually { socket.messages.joined().contains("[:test/echo 3]") })
        let pushed = socket.messages.dropFirst(before + 2).joined()
        let order = ["[:test/echo 1]", "[:test/echo 2]", "[:test/echo 3]"].map { pushed.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!, "\(pushed)")
    }

    @Test func malformedInputReachesTheAppAsSenteShowsIt() async throws {
        let v2 = try EngineHarness(wire: .v2, echo: false)
        let (c2, _) = await v2.connect(uid: "u", client: "c")
        v2.send(c2, "[[:oops 1] nil]")            // un-namespaced id
        v2.send(c2, "[[:a/b 1 2] nil]")           // 3 elements
        v2.send(c2, "[:a/b nil]")                 // a keyword, not a vector
        v2.send(c2, "[[:my-app/oops {:x")         // unreadable: dropped (newest)
        v2.send(c2, ":not-a-frame")               // no [value cb]: dropped
        v2.send(c2, "[[:a/ok] nil]")
        #expect(await v2.eventually { v2.events.count == 5 })
        #expect(v2.eventTexts == ["[:chsk/uidport-open \"u\"]", "[:chsk/bad-event [:oops 1]]", "[:chsk/bad-event [:a/b 1 2]]", "[:chsk/bad-event :a/b]", "[:a/ok]"])

        let v1 = try EngineHarness(wire: .v1, echo: false)
        let (c1, _) = await v1.connect(uid: "u", client: "c")
        v1.send(c1, "-[:my-app/oops {:x")         // unreadable after '-'
        v1.send(c1, "+[:whatever \"x")            // unreadable after '+': destructured quirk
        v1.send(c1, "-:foo/bar")                  // keyword event
        v1.send(c1, "+[[:foo/bar 1]]")            // wrapped without cb
        #expect(await v1.eventually { v1.events.count == 5 })
        let texts = v1.eventTexts
        #expect(texts[1] == "[:chsk/bad-package \"[:my-app/oops {:x\"]")
        #expect(texts[2] == "[:chsk/bad-event :chsk/bad-package]")
        #expect(v1.events[2].wantsReply)
        #expect(texts[3] == "[:chsk/bad-event :foo/bar]")
        #expect(texts[4] == "[:foo/bar 1]" && !v1.events[4].wantsReply)
    }

    /// An event nested exactly to the EDN reader's bound reaches the app however it is framed
    /// (v1 `-ev`, v1 `+[ev]` as a 1.14 client sends, v2 `[ev nil]`): the frame's vector does
    /// not count. One level deeper is refused as unreadable (v1: `:chsk/bad-package`).
    @Test func eventAtTheDepthBoundArrivesInEveryFraming() async throws {
        let bound = EDNReader.Options.defaultMaxDepth
        func event(_ levels: Int) -> String { "[:deep/ev " + String(repeating: "[", count: levels - 1) + "1" + String(repeating: "]", count: levels - 1) + "]" }
        let v1 = try EngineHarness(wire: .v1, echo: false)
        let (c1, _) = await v1.connect(uid: "u", client: "c")
        v1.send(c1, "-" + event(bound))
        v1.send(c1, "+[" + event(bound) + "]")
        v1.send(c1, "+[" + event(bound + 1) + "]")
        #expect(await v1.eventually { v1.events.count == 4 })
        #expect(v1.eventTexts[1] == event(bound) && v1.eventTexts[2] == event(bound))
        #expect(v1.eventTexts[3].hasPrefix("[:chsk/bad-event :chsk/bad-package]") || v1.eventTexts[3].hasPrefix("[:chsk/bad-package"), "\(v1.eventTexts.map { $0.prefix(50) })")

        let v2 = try EngineHarness(wire: .v2, echo: false)
        let (c2, _) = await v2.connect(uid: "u", client: "c")
        v2.send(c2, "[" + event(bound) + " nil]")
        v2.send(c2, "[" + event(bound + 1) + " nil]")   // unreadable: dropped
        v2.send(c2, "[[:a/ok] nil]")
        #expect(await v2.eventually { v2.events.count == 3 })
        #expect(v2.eventTexts[1] == event(bound) && v2.eventTexts[2] == "[:a/ok]", "\(v2.eventTexts.map { $0.prefix(50) })")
    }

    /// A push the packer cannot pack (here an EDN keyword with no text, `:`) is refused to the
    /// caller with a typed error, logged and counted; the client gets nothing (before, an empty
    /// frame went out).
    @Test func unpackablePushesAreRefusedNotSentEmpty() async throws {
        let h = try EngineHarness(wire: .v2)
        let (_, socket) = await h.connect(uid: "u", client: "c")
        let before = socket.messages.count
        await #expect(throws: ChannelSocketServer.PushError.self) {
            try await h.server.send(Event("my/ev", .keyword(Keyword(""))), to: "u", flush: true)
        }
        try await h.server.send(Event("my/ok", 1), to: "u", flush: true)
        #expect(await h.eventually { socket.messages.count > before })
        #expect(socket.messages.dropFirst(before) == ["[[[:my/ok 1]] nil]"][...])
        #expect(h.server.refusalCounts[.unpackableEvent] == 1)
    }

    @Test func oversizedMessagesAreRefused() async throws {
        let h = try EngineHarness { $0.maxMessageBytes = 100 }
        let (c, socket) = await h.connect(uid: "u", client: "c")
        h.send(c, "[[:a/b \"" + String(repeating: "x", count: 200) + "\"] nil]")
        #expect(socket.closeCode == 1009)
        let reply = await h.server.post(h.request("POST", ["client-id": "c", "ppstr": "[[:a/b \"" + String(repeating: "x", count: 200) + "\"] nil]"]))
        #expect(reply.status == 413)
    }

    @Test func thousandPushesArriveInOrderOverWSAndAjax() async throws {
        let h = try EngineHarness(wire: .v2, echo: false)
        let (_, socket) = await h.connect(uid: "u", client: "ws-client")
        // An Ajax client of the same uid.
        _ = await h.server.poll(h.request("GET", ["client-id": "ajax-client", "uid": "u", "handshake?": "1"]))
        var ajaxEvents: [EDNValue] = []
        var poll = h.start("GET", ["client-id": "ajax-client", "uid": "u"])
        for i in 0..<1000 {
            try await h.server.send(Event("srv/n", .integer(Int64(i))), to: "u", flush: i % 97 == 0)
            if i % 250 == 0 { await h.clock.advance(by: .milliseconds(40)) }
        }
        await h.server.flush()
        while ajaxEvents.count < 1000 {
            #expect(await h.eventually { poll.value != nil })
            guard let body = poll.value?.bodyText else { break }
            let frame = try EDNReader.read(body)
            ajaxEvents += frame.sequenceElements?.first?.sequenceElements ?? []
            if ajaxEvents.count < 1000 { poll = h.start("GET", ["client-id": "ajax-client", "uid": "u"]) }
        }
        var wsEvents: [EDNValue] = []
        for frame in socket.messages.dropFirst() {
            wsEvents += try EDNReader.read(frame).sequenceElements?.first?.sequenceElements ?? []
        }
        let expected = (0..<1000).map { EDNValue.vector([.kw("srv/n"), .integer(Int64($0))]) }
        #expect(wsEvents == expected)
        #expect(ajaxEvents == expected)
        #expect(socket.messages.count < 200)   // batched, not one frame per event
    }

    @Test func batchingWindowsAndFlush() async throws {
        let h = try EngineHarness(wire: .v2)
        let (_, socket) = await h.connect(uid: "u", client: "c")
        try await h.server.send(Event("a/x", 1), to: "u")
        try await h.server.send(Event("a/y", 2), to: "u")
        await h.clock.advance(by: .milliseconds(29))
        #expect(socket.messages.count == 1)
        await h.clock.advance(by: .milliseconds(2))
        #expect(socket.messages.last == "[[[:a/x 1] [:a/y 2]] nil]")
        try await h.server.send(Event("a/z", 3), to: "u", flush: true)
        #expect(socket.messages.last == "[[[:a/z 3]] nil]")
        await #expect(throws: ChannelSocketServer.PushError.reservedEvent(Keyword("chsk/foo"))) { try await h.server.send(Event("chsk/foo"), to: "u") }
        await #expect(throws: ChannelSocketServer.PushError.nilUID) { try await h.server.send(Event("a/b"), to: .null) }
    }

    @Test func equalButDifferentBatchesAreNotShared() async throws {
        let h = try EngineHarness(wire: .v2)
        let (_, s1) = await h.connect(uid: "u1", client: "1")
        let (_, s2) = await h.connect(uid: "u2", client: "2")
        try await h.server.send(Event("a/b", .list([1, 2])), to: "u1")
        try await h.server.send(Event("a/b", .vector([1, 2])), to: "u2")
        await h.clock.advance(by: .milliseconds(31))
        #expect(s1.messages.last == "[[[:a/b (1 2)]] nil]")
        #expect(s2.messages.last == "[[[:a/b [1 2]]] nil]")
        try await h.server.broadcast(Event("a/all", 1))
        await h.clock.advance(by: .milliseconds(31))
        #expect(s1.messages.last == "[[[:a/all 1]] nil]" && s2.messages.last == "[[[:a/all 1]] nil]")
    }

    /// A broadcast is packed once and shared by every WebSocket and held poll it reaches; a
    /// client between polls gets it with its next poll; a later broadcast of an equal value
    /// (a list where the last had a vector) is not mistaken for the last one.
    @Test func broadcastBatchesAreSharedByWebSocketsAndPolls() async throws {
        let h = try EngineHarness(wire: .v2, echo: false)
        let (_, socket) = await h.connect(uid: "w", client: "ws")
        for (client, uid) in [("a1", "u1"), ("a2", "u2")] {
            _ = await h.server.poll(h.request("GET", ["client-id": client, "uid": uid, "handshake?": "1"]))
        }
        // a2's poll is answered by its own event, so a2 is between polls when the broadcast comes.
        let first = h.start("GET", ["client-id": "a2", "uid": "u2"])
        await h.clock.advance(by: .milliseconds(5))
        try await h.server.send(Event("a/only"), to: "u2", flush: true)
        #expect(await h.eventually { first.value != nil })
        #expect(first.value?.bodyText == "[[[:a/only]] nil]")
        // Broadcasts `data` while a1's poll is held; what a1's poll and the WebSocket got.
        func broadcast(_ data: EDNValue) async throws -> (poll: String?, ws: String?) {
            let held = h.start("GET", ["client-id": "a1", "uid": "u1"])
            await h.clock.advance(by: .milliseconds(5))
            try await h.server.broadcast(Event("a/all", data))
            await h.clock.advance(by: .milliseconds(101))
            #expect(await h.eventually { held.value != nil })
            return (held.value?.bodyText, socket.messages.last)
        }
        let vector = try await broadcast(.vector([1]))
        #expect(vector.poll == "[[[:a/all [1]]] nil]" && vector.ws == "[[[:a/all [1]]] nil]")
        let late = h.start("GET", ["client-id": "a2", "uid": "u2"])
        #expect(await h.eventually { late.value != nil })
        #expect(late.value?.bodyText == "[[[:a/all [1]]] nil]")
        let list = try await broadcast(.list([1]))
        #expect(list.poll == "[[[:a/all (1)]] nil]" && list.ws == "[[[:a/all (1)]] nil]")
    }

    @Test func pushToClientsWithoutUID() async throws {
        let h = try EngineHarness(wire: .v2)
        let (_, socket) = await h.connect(uid: nil, client: "anon")
        try await h.server.send(Event("a/hi"), to: .keyword(Reserved.allUsersWithoutUID), flush: true)
        #expect(socket.messages.last == "[[[:a/hi]] nil]")
    }

    @Test func keepAliveV2PingsAtHalfWindowAndClosesSilentClients() async throws {
        let h = try EngineHarness(wire: .v2)
        let (c, socket) = await h.connect(uid: "u", client: "c")
        h.send(c, "[[:a/b] nil]")
        await h.clock.advance(by: .milliseconds(12_500))   // activity in the first window
        #expect(socket.messages.count == 1)
        await h.clock.advance(by: .milliseconds(12_500))
        #expect(socket.messages.last == "[:chsk/ws-ping nil]")
        h.send(c, "[[:chsk/ws-pong] nil]")
        await h.clock.advance(by: .milliseconds(10_000))
        #expect(socket.closeCode == nil)
        await h.clock.advance(by: .milliseconds(12_500))   // idle again → ping
        #expect(socket.messages.filter { $0 == "[:chsk/ws-ping nil]" }.count == 2)
        await h.clock.advance(by: .milliseconds(10_000))   // no answer → closed
        #expect(socket.closeCode == 1000)
        #expect(socket.closeReason == "ws-ping-timeout")
        #expect(h.eventTexts.contains("[:chsk/ws-pong]"))
    }

    /// The idle ping schedule of real Sente 1.21 (`ws-kalive-ms` 6000, ping timeout 10 s):
    /// a client that answers every ping at once is pinged at 3, 16, 29, 42 s (K + n·(K + P)),
    /// under `wire: .v2` and under `auto` (where the first pong tells the generation).
    @Test(arguments: [WireOption.v2, .auto])
    func idlePingScheduleMatchesSente121(wire: WireOption) async throws {
        let h = try EngineHarness(wire: wire) { $0.wsKeepAlive = .milliseconds(6000) }
        let (c, socket) = await h.connect(uid: "u", client: "c")
        var pings: [Int] = [], seen = socket.messages.count
        for tenth in 1...450 {
            await h.clock.advance(by: .milliseconds(100))
            let messages = socket.messages
            for m in messages[seen...] where m == "[:chsk/ws-ping nil]" {
                pings.append(tenth)
                h.send(c, "[[:chsk/ws-pong] nil]")
            }
            seen = messages.count
        }
        #expect(pings == [30, 160, 290, 420], "pings at tenths of a second: \(pings)")
        #expect(socket.closeCode == nil)
    }

    /// Under `auto`, a client that never answers and never sends (a 1.14 client) keeps being
    /// pinged and is never closed; a v2 one is closed after one unanswered ping.
    @Test func autoNeverClosesAClientOfUnknownGeneration() async throws {
        let h = try EngineHarness(wire: .auto) { $0.wsKeepAlive = .milliseconds(6000) }
        let (_, socket) = await h.connect(uid: "u", client: "c")
        await h.clock.advance(by: .seconds(60))
        #expect(socket.closeCode == nil)
        #expect(socket.messages.filter { $0.contains(":chsk/ws-ping") }.count >= 4)
        let v2 = try EngineHarness(wire: .v2) { $0.wsKeepAlive = .milliseconds(6000) }
        let (_, silent) = await v2.connect(uid: "u", client: "c")
        await v2.clock.advance(by: .milliseconds(12_900))
        #expect(silent.closeCode == nil)
        await v2.clock.advance(by: .milliseconds(200))   // ping at 3 s, no answer by 13 s
        #expect(silent.closeCode == 1000)
    }

    /// Under `auto` a 1.14 client without uid is handshaken with v2's nil-uid (nothing tells its
    /// generation before its first message); once it speaks v1, its events carry 1.14's
    /// `:taoensso.sente/nil-uid`, so the echo app's replies do, and pushes to its uid reach it.
    @Test func autoGivesV1ClientsWithoutUIDTheirNilUIDOnceKnown() async throws {
        let h = try EngineHarness(wire: .auto)
        let (c, socket) = await h.connect(uid: nil, client: "old")
        #expect(socket.messages.first?.contains(":sente/nil-uid") == true)   // cannot be known yet
        h.send(c, "+[[:my/req 1] \"cb1\"]")
        h.send(c, "-[:test/echo-push 5]")
        #expect(await h.eventually { socket.messages.contains { $0.contains("[:test/echo 5]") } })
        let reply = socket.messages.first { $0.contains("cb1") }
        #expect(reply == "+[{:echo [:my/req 1], :uid :taoensso.sente/nil-uid, :client-id \"old\"} \"cb1\"]", "\(socket.messages)")
        #expect(h.events.last?.uid == .keyword(Reserved.nilUIDv1))
        // A v2 client without uid keeps v2's.
        let (c2, socket2) = await h.connect(uid: nil, client: "new")
        h.send(c2, "[[:my/req 2] \"cb2\"]")
        #expect(await h.eventually { socket2.messages.contains { $0.contains("cb2") } })
        #expect(socket2.messages.last?.contains(":uid :sente/nil-uid") == true)
    }

    @Test func keepAliveV1PingsEveryWindowAndNeverCloses() async throws {
        let h = try EngineHarness(wire: .v1)
        let (_, socket) = await h.connect(uid: "u", client: "c")
        await h.clock.advance(by: .milliseconds(24_999))
        #expect(socket.messages.count == 1)
        await h.clock.advance(by: .milliseconds(1))
        #expect(socket.messages.last == "-:chsk/ws-ping")
        await h.clock.advance(by: .seconds(100))
        #expect(socket.messages.count == 6 && socket.closeCode == nil)   // handshake + pings at 25, 50, 75, 100, 125 s
    }

    @Test func connectedUIDsGracePeriodsAndUidportEvents() async throws {
        let h = try EngineHarness(wire: .v2)
        let changes = h.server.connectedUIDChanges()
        let (c, _) = await h.connect(uid: "alice", client: "c1")
        #expect(await h.server.connectedUIDs.value == [.kw("ws"): .set(["alice"]), .kw("ajax"): .set([]), .kw("any"): .set(["alice"])])
        // The client dies without a close frame: the adapter reports the closed socket.
        await c.closed()
        await h.clock.advance(by: .milliseconds(2_400))
        #expect(await h.server.connectedUIDs.any.contains("alice"))
        await h.clock.advance(by: .milliseconds(200))
        #expect(await h.server.connectedUIDs.any.isEmpty)
        #expect(h.eventTexts.filter { $0.contains("uidport") } == ["[:chsk/uidport-open \"alice\"]", "[:chsk/uidport-close \"alice\"]"])
        var seen: [ConnectedUIDs] = []
        for await value in changes {
            seen.append(value)
            if value.any.isEmpty && seen.count > 1 { break }
        }
        #expect(seen.contains { $0.ws.contains("alice") })

        // A reconnect within the grace period produces no events.
        let (c2, _) = await h.connect(uid: "bob", client: "b1")
        await c2.closed()
        await h.clock.advance(by: .milliseconds(1_000))
        _ = await h.connect(uid: "bob", client: "b1")
        await h.clock.advance(by: .seconds(5))
        #expect(h.eventTexts.filter { $0.contains("bob") } == ["[:chsk/uidport-open \"bob\"]"])
    }

    @Test func lateCloseOfASupersededConnectionKeepsItsSuccessor() async throws {
        let h = try EngineHarness(wire: .v2)
        let (first, _) = await h.connect(uid: "u", client: "same")
        let (_, second) = await h.connect(uid: "u", client: "same")
        await first.closed()
        await h.clock.advance(by: .seconds(5))
        #expect(await h.server.connectedUIDs.ws.contains("u"))
        try await h.server.send(Event("a/still-here"), to: "u", flush: true)
        #expect(second.messages.last == "[[[:a/still-here]] nil]")
    }

    @Test func chskCloseClosesEveryConnectionOfTheUID() async throws {
        let h = try EngineHarness(wire: .v2)
        let (_, a) = await h.connect(uid: "u", client: "1")
        let (_, b) = await h.connect(uid: "u", client: "2")
        try await h.server.send(Event("chsk/close"), to: "u")
        #expect(a.closeCode == 1000 && b.closeCode == 1000)
    }

    // MARK: Ajax

    @Test func longPollHandshakeHoldTimeoutAndSupersede() async throws {
        let h = try EngineHarness(wire: .v2)
        let hs = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "bob", "handshake?": "1"]))
        #expect(hs.bodyText == "[[:chsk/handshake [\"bob\" nil nil]] nil]")
        let first = h.start("GET", ["client-id": "c", "uid": "bob"])
        await h.clock.advance(by: .milliseconds(19_990))
        #expect(first.value == nil)
        await h.clock.advance(by: .milliseconds(20))
        #expect(first.value?.bodyText == "[:chsk/timeout nil]")
        let held = h.start("GET", ["client-id": "c", "uid": "bob"])
        await h.clock.settle()
        let newer = h.start("GET", ["client-id": "c", "uid": "bob"])
        #expect(await h.eventually { held.value != nil })
        #expect(held.value?.bodyText == "[:chsk/timeout nil]")
        try await h.server.send(Event("a/b", 1), to: "bob")
        await h.clock.advance(by: .milliseconds(100))
        #expect(await h.eventually { newer.value != nil })
        #expect(newer.value?.bodyText == "[[[:a/b 1]] nil]")
        // Unknown client without handshake? still gets a handshake first.
        let unknown = await h.server.poll(h.request("GET", ["client-id": "new", "uid": "bob"]))
        #expect(unknown.bodyText.hasPrefix("[[:chsk/handshake"))
    }

    @Test func pushesBetweenPollsWaitForTheNextPoll() async throws {
        let h = try EngineHarness(wire: .v1)
        _ = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "bob", "handshake?": "true"]))
        try await h.server.send(Event("a/b", 1), to: "bob")
        await h.clock.advance(by: .milliseconds(150))
        let next = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "bob"]))
        #expect(next.bodyText == "-[[:a/b 1]]")
    }

    @Test func postWithAndWithoutCallback() async throws {
        let h = try EngineHarness(wire: .auto, echo: false)
        let noCb = await h.server.post(h.request("POST", ["client-id": "c", "uid": "bob", "ppstr": "[[:a/b 1] nil]"]))
        #expect(noCb.bodyText == "[:chsk/dummy-cb-200 nil]")
        let v1NoCb = await h.server.post(h.request("POST", ["client-id": "c", "uid": "bob", "ppstr": "+[[:a/b 1]]"]))
        #expect(v1NoCb.bodyText == "-:chsk/dummy-cb-200")
        for marker in ["0", ":ajax", "\"x\""] {
            let box = h.start("POST", ["client-id": "c", "uid": "bob", "ppstr": "[[:a/req \(marker)] \(marker)]"])
            #expect(await h.eventually { h.events.contains { $0.event.data == (try? EDNReader.read(marker)) } })
            h.events.last { $0.id == "a/req" }?.reply([.kw("ok"): true])
            h.events.last { $0.id == "a/req" }?.reply([.kw("second"): true])   // only the first counts
            #expect(await h.eventually { box.value != nil })
            #expect(box.value?.bodyText == "[{:ok true} nil]")
        }
        let unanswered = h.start("POST", ["client-id": "c", "uid": "bob", "ppstr": "+[[:a/slow] 0]"])
        await h.clock.advance(by: .milliseconds(19_900))
        #expect(unanswered.value == nil)
        await h.clock.advance(by: .milliseconds(200))
        #expect(unanswered.value?.bodyText == "-:chsk/timeout")
        let missing = await h.server.post(h.request("POST", ["client-id": "c"]))
        #expect(missing.bodyText == "[:chsk/dummy-cb-200 nil]")
        #expect(await h.eventually { h.eventTexts.contains("[:chsk/bad-event nil]") })
    }

    @Test func ajaxClientLeavesConnectedUIDsFiveSecondsAfterItsLastPoll() async throws {
        let h = try EngineHarness(wire: .v2)
        _ = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "bob", "handshake?": "1"]))
        #expect(await h.server.connectedUIDs.ajax.isEmpty)   // newest: counted from the first real poll
        let poll = h.start("GET", ["client-id": "c", "uid": "bob"])
        #expect(await h.eventually { h.eventTexts.contains("[:chsk/uidport-open \"bob\"]") })
        await h.clock.advance(by: .seconds(20))
        #expect(poll.value?.bodyText == "[:chsk/timeout nil]")
        await h.clock.advance(by: .milliseconds(4_900))
        #expect(await h.server.connectedUIDs.ajax.contains("bob"))
        await h.clock.advance(by: .milliseconds(200))
        #expect(await h.server.connectedUIDs.ajax.isEmpty)
        #expect(h.eventTexts.contains("[:chsk/uidport-close \"bob\"]"))
    }

    /// A client that sends the engine's own event ids (`[:chsk/uidport-open "victim"]` by
    /// POST, `-[:chsk/uidport-close "victim"]` and `[:chsk/bad-event 1]` over WebSocket)
    /// reaches the app as a client event (`origin == .client`); the engine's real ones carry
    /// `.engine(…)`, and the echo app pushes no `:chsk/*` event a client asks for.
    @Test func clientsCannotForgeEngineEvents() async throws {
        let h = try EngineHarness(wire: .auto)
        let (c, _) = await h.connect(uid: "mallory", client: "m1")
        _ = await h.server.post(h.request("POST", ["client-id": "m2", "uid": "mallory", "ppstr": "[[:chsk/uidport-open \"victim\"] nil]"]))
        h.send(c, "[[:chsk/bad-event 1] nil]")
        h.send(c, "[:not-an-event nil]")
        h.send(c, "[[:test/push {:uid \"victim\" :event [:chsk/close]}] nil]")
        #expect(await h.eventually { h.events.count == 5 })
        let byText = Dictionary(h.events.map { ($0.event.description, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byText["[:chsk/uidport-open \"mallory\"]"]?.origin == .engine(.uidPortOpen("mallory")))
        #expect(byText["[:chsk/uidport-open \"victim\"]"]?.origin == .client)
        #expect(byText["[:chsk/uidport-open \"victim\"]"]?.engineEvent == nil)
        #expect(byText["[:chsk/bad-event 1]"]?.origin == .client)
        #expect(byText["[:chsk/bad-event :not-an-event]"]?.origin == .engine(.badEvent(.keyword("not-an-event"))))
        #expect(h.server.refusalCounts[.reservedEvent] == 1)

        let v1 = try EngineHarness(wire: .v1, echo: false)
        let (c1, _) = await v1.connect(uid: "u", client: "c")
        v1.send(c1, "-[:chsk/bad-package \"forged\"]")
        v1.send(c1, "-[:my-app/oops {:x")
        #expect(await v1.eventually { v1.events.count == 3 })
        #expect(v1.events[1].origin == .client && v1.events[1].id == Reserved.badPackage)
        #expect(v1.events[2].origin == .engine(.badPackage("[:my-app/oops {:x")))
    }

    /// A router's handler for an engine event id gets only the engine's events; a client's
    /// forgery of that id goes to the fallback.
    @Test func routerSendsForgedEngineIDsToTheFallback() async throws {
        let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, clock: ManualClock()))
        let opened = Mutex<[String]>([]), other = Mutex<[String]>([])
        let stop = EventRouter()
            .on("chsk/uidport-open") { msg in opened.withLock { $0.append(msg.event.description) } }
            .otherwise { msg in other.withLock { $0.append(msg.event.description) } }
            .start(on: server)
        let c = await server.openWebSocket(ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "c", "uid": "u"], isWebSocket: true),
                                           outbound: RecordingWebSocket())
        c.receive(Array("[[:chsk/uidport-open \"victim\"] nil]".utf8))
        let clock = ManualClock()
        for _ in 0..<100 where opened.withLock({ $0.count }) < 1 || other.withLock({ $0.count }) < 1 { await clock.settle() }
        #expect(opened.withLock { $0 } == ["[:chsk/uidport-open \"u\"]"])
        #expect(other.withLock { $0 } == ["[:chsk/uidport-open \"victim\"]"])
        stop.stop()
    }

    @Test func routerDispatchesByEventID() async throws {
        let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, clock: ManualClock()))
        let seen = ResultBox()
        let stop = EventRouter()
            .on("my/req") { msg in msg.reply("handled") }
            .otherwise { msg in if msg.id == "my/other" { seen.set(HTTPReply(status: 200, text: "other")) } }
            .start(on: server)
        let socket = RecordingWebSocket()
        let c = await server.openWebSocket(ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "c", "uid": "u"], isWebSocket: true), outbound: socket)
        c.receive(Array("[[:my/req] \"cb\"]".utf8))
        c.receive(Array("[[:my/other] nil]".utf8))
        let clock = ManualClock()
        for _ in 0..<50 where socket.messages.count < 2 || seen.value == nil { await clock.settle() }
        #expect(socket.messages.last == "[\"handled\" \"cb\"]")
        #expect(seen.value?.bodyText == "other")
        stop.stop()
    }
}
