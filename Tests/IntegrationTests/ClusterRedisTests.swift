import ChannelSocket
import ChannelSocketClientNIO
import ChannelSocketRedis
import EDN
import Foundation
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// chsk nodes joined by a real Redis (`RedisBroker`, Debian's redis-server on a free loopback
/// port): cross-node delivery counted at the clients, cluster-wide connected-uids and uidport,
/// a node killed with SIGKILL, Redis killed and restarted mid-traffic, bounds and bad input.
@Suite(.serialized, .enabled(if: RedisProcess.isAvailable)) struct ClusterRedisTests {
    /// Fast settings so that expiry and reconnects happen within a test's seconds.
    static func options(_ change: (inout RedisBroker.Options) -> Void = { _ in }) -> RedisBroker.Options {
        var o = RedisBroker.Options()
        o.heartbeat = .milliseconds(200)
        o.nodeTTL = .milliseconds(1000)
        o.reconnectBackoff = (.milliseconds(50), .milliseconds(400))
        o.commandTimeout = .seconds(2)
        change(&o)
        return o
    }

    static func node(_ redis: RedisProcess, _ id: String, _ change: (inout RedisBroker.Options) -> Void = { _ in }) async throws -> InProcessServer {
        try await InProcessServer(cluster: RedisBroker(url: redis.url, nodeID: id, options: options(change)))
    }

    /// A client of ours with a box of the app events it received (their text, in order).
    final class Client: Sendable {
        let client: ChannelSocketClient
        let received = LockedBox<[String]>([])
        let reader: Task<Void, Never>

        init(_ port: Int, _ type: ClientType, uid: String?) async {
            client = ChannelSocketClient(url: "http://127.0.0.1:\(port)/chsk",
                                         options: .init(type: type, clientID: "\(uid ?? "nil")-\(type)-\(port)", params: uid.map { ["uid": $0] } ?? [:],
                                                        backoff: Backoff(cap: .seconds(1), floor: .milliseconds(50))),
                                         transport: NIOClientTransport())
            let events = client.events
            let box = received
            reader = Task { for await e in events where e.id.namespace == "app" { box.value.append(e.description) } }
            await client.start()
        }

        var events: [String] { received.value }

        func stop() async {
            await client.disconnect()
            reader.cancel()
        }
    }


    static func count(_ event: EngineEvent, _ nodes: [InProcessServer]) -> Int {
        nodes.reduce(0) { $0 + $1.engineEvents.filter { $0 == event }.count }
    }

    @Test func pushFromOneNodeReachesWebSocketAndAjaxClientsOnTwoOthers() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "n1"), n2 = try await Self.node(redis, "n2"), n3 = try await Self.node(redis, "n3")
        let nodes = [n1, n2, n3]
        let ws = await Client(n2.port, .ws, uid: "alice")
        let ajax = await Client(n3.port, .ajax, uid: "alice")
        let want = ConnectedUIDs(ws: ["alice"], ajax: ["alice"], any: ["alice"])
        for node in nodes {
            #expect(await eventually { await node.server.connectedUIDs == want }, "connected-uids on \(node.port)")
        }
        for i in 1...20 { try await n1.server.send(Event("app/n", .integer(Int64(i))), to: "alice") }
        let expected = (1...20).map { "[:app/n \($0)]" }
        #expect(await eventually { ws.events.count >= 20 && ajax.events.count >= 20 })
        #expect(ws.events == expected, "WebSocket client on n2: all 20, in order, once")
        #expect(ajax.events == expected, "Ajax client on n3: all 20, in order, once")

        #expect(try await n1.server.broadcast(Event("app/all", "hi")) == 1)
        #expect(await eventually { ws.events.last == "[:app/all \"hi\"]" && ajax.events.last == "[:app/all \"hi\"]" })
        #expect(Self.count(.clusterUIDPortOpen("alice"), nodes) == 1, "cluster-wide open once, on the node alice first reached")
        #expect(Self.count(.uidPortOpen("alice"), nodes) == 2, "node-local opens stay as in Sente: one per node with a client")

        // Both leave: one cluster-wide close, after the grace, on one node.
        await ws.stop()
        await ajax.stop()
        #expect(await eventually(15) { Self.count(.clusterUIDPortClose("alice"), nodes) == 1 })
        #expect(await eventually { await n1.server.connectedUIDs.any.isEmpty })
        try? await Task.sleep(for: .milliseconds(500))
        #expect(Self.count(.clusterUIDPortClose("alice"), nodes) == 1)
        for node in nodes { await node.stop() }
    }

    @Test func pushesToUsersWithoutUIDAndCloseCrossNodes() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "u1"), n2 = try await Self.node(redis, "u2")
        let anonymous = await Client(n2.port, .ws, uid: nil)
        let kim = await Client(n2.port, .ws, uid: "kim")
        let closes = LockedBox(0)
        let changes = kim.client.stateChanges
        let watcher = Task { for await c in changes where c.openChanged && !c.new.isOpen { closes.value += 1 } }
        #expect(await eventually { await n1.server.connectedUIDs.any.count == 2 })
        try await n1.server.send(Event("app/anon", 1), to: .keyword(Reserved.allUsersWithoutUID))
        #expect(await eventually { anonymous.events == ["[:app/anon 1]"] })
        #expect(kim.events.isEmpty)
        // [:chsk/close] from n1: n2 closes kim's WebSocket (her client then reconnects).
        try await n1.server.send(Event(Reserved.close), to: "kim")
        #expect(await eventually { closes.value == 1 })
        #expect(await anonymous.client.currentState.isOpen)
        watcher.cancel()
        await anonymous.stop()
        await kim.stop()
        for node in [n1, n2] { await node.stop() }
    }

    @Test func redisKilledAndRestartedMidTrafficLosesNothing() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "r1"), n2 = try await Self.node(redis, "r2")
        // A third node as `chsk serve`, to read what it logs about the outage.
        let n3 = try ServeProcess(["--redis", redis.url, "--node-id", "r3", "--cluster-heartbeat-ms", "200"])
        let bob = await Client(n2.port, .ws, uid: "bob")
        #expect(await eventually { await n1.server.connectedUIDs.any == ["bob"] })
        for i in 0..<10 { try await n1.server.send(Event("app/n", .integer(Int64(i))), to: "bob") }
        #expect(await eventually { bob.events.count == 10 })
        redis.kill()
        // During the outage: queued by n1's broker (within maxOutage), none refused.
        for i in 10..<20 {
            try await n1.server.send(Event("app/n", .integer(Int64(i))), to: "bob")
            try await Task.sleep(for: .milliseconds(30))
        }
        try redis.start()   // same port, empty: Redis lost everything
        for i in 20..<30 {
            try await n1.server.send(Event("app/n", .integer(Int64(i))), to: "bob")
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await eventually(20) { bob.events.count >= 30 })
        #expect(bob.events == (0..<30).map { "[:app/n \($0)]" }, "every event, in order, once")
        #expect((n1.server.refusalCounts[.clusterUnavailable] ?? 0) == 0)
        // The nodes restored their membership in the new Redis.
        #expect(await eventually { await n1.server.connectedUIDs.any == ["bob"] })
        #expect(redis.cli(["HKEYS", "chsk:{chsk}:node:r2"]).contains("\"bob\""))
        // One line per change of the link: lost once, back once (and Redis's lost data noticed).
        #expect(await eventually { n3.log.contains("cluster: reconnected to") && n3.log.contains("Redis lost the cluster's data") })
        try await Task.sleep(for: .milliseconds(600))
        let lines = n3.log.split(separator: "\n").filter { $0.contains("cluster:") }
        #expect(lines.filter { $0.contains("lost Redis at") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("reconnected to") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("Redis lost the cluster's data") }.count == 1, "\(lines)")
        _ = n3.terminate()
        await bob.stop()
        for node in [n1, n2] { await node.stop() }
    }

    @Test func anOutagePastItsBoundIsRefusedToTheCallerAndCounted() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "o1") { $0.maxOutage = .milliseconds(300) }
        let carol = await Client(n1.port, .ws, uid: "carol")
        #expect(await eventually { await n1.server.connectedUIDs.any == ["carol"] })
        redis.kill()
        var refusal: ChannelSocketServer.PushError?
        var sent = 0
        let deadline = Date().addingTimeInterval(10)
        while refusal == nil && Date() < deadline {
            do {
                try await n1.server.send(Event("app/n", .integer(Int64(sent))), to: "carol")
            } catch {
                refusal = error
            }
            sent += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        guard case .clusterUnavailable(let reached, let reason) = refusal else {
            Issue.record("no refusal within 10 s of Redis going away: \(String(describing: refusal))")
            return
        }
        #expect(reached == 1, "the node's own client still got it")
        #expect(reason.contains("unreachable"))
        #expect(n1.server.refusalCounts[.clusterUnavailable] == 1)
        #expect(await eventually { carol.events.count == sent }, "the local client got every push, refused ones included")
        try redis.start()
        #expect(await eventually(10) {
            (try? await n1.server.send(Event("app/back"), to: "carol")) != nil
        }, "pushes are accepted again once Redis is back")
        await carol.stop()
        await n1.stop()
    }

    @Test func aNodeKilledWithSIGKILLLeavesWithinItsTTL() async throws {
        let redis = try RedisProcess()
        let survivor = try await Self.node(redis, "alive")
        let doomed = try ServeProcess(["--redis", redis.url, "--node-id", "doomed", "--cluster-heartbeat-ms", "200", "--cluster-ttl-ms", "1000"])
        let dave = await Client(doomed.port, .ws, uid: "dave")
        #expect(await eventually { await survivor.server.connectedUIDs == ConnectedUIDs(ws: ["dave"], ajax: [], any: ["dave"]) })
        kill(doomed.process.processIdentifier, SIGKILL)
        let killed = Date()
        #expect(await eventually { await survivor.server.connectedUIDs.any.isEmpty })
        let took = Date().timeIntervalSince(killed)
        #expect(took <= 1.0 + 0.2 + 1.0, "gone \(took) s after the kill (TTL 1 s, heartbeat 0.2 s)")
        #expect(await eventually { Self.count(.clusterUIDPortClose("dave"), [survivor]) == 1 })
        try? await Task.sleep(for: .milliseconds(600))
        #expect(Self.count(.clusterUIDPortClose("dave"), [survivor]) == 1, "once")
        #expect(redis.cli(["ZRANGE", "chsk:{chsk}:nodes", "0", "-1"]).contains("alive"))
        #expect(!redis.cli(["ZRANGE", "chsk:{chsk}:nodes", "0", "-1"]).contains("doomed"))
        await dave.stop()
        await survivor.stop()
    }

    @Test func aNodeShutDownGracefullyLeavesAtItsSurvivorsNextHeartbeat() async throws {
        let redis = try RedisProcess()
        let survivor = try await Self.node(redis, "stays")
        // The leaving node talks to Redis over its Unix socket (unix:// URLs).
        let leaving = try ServeProcess(["--redis", "unix://" + redis.socketPath, "--node-id", "leaves",
                                        "--cluster-heartbeat-ms", "200", "--cluster-ttl-ms", "10000"])
        let ivy = await Client(leaving.port, .ajax, uid: "ivy")
        #expect(await eventually { await survivor.server.connectedUIDs == ConnectedUIDs(ws: [], ajax: ["ivy"], any: ["ivy"]) })
        let (status, _) = leaving.terminate()
        #expect(status == 0)
        let stopped = Date()
        // Not after its 10 s TTL: a node that shuts down expires its heartbeat at once.
        #expect(await eventually(5) { await survivor.server.connectedUIDs.any.isEmpty })
        #expect(Date().timeIntervalSince(stopped) < 2)
        #expect(await eventually { Self.count(.clusterUIDPortClose("ivy"), [survivor]) == 1 })
        #expect(leaving.log.contains("cluster: connected to unix://\(redis.socketPath) as node leaves"), "\(leaving.log)")
        await ivy.stop()
        await survivor.stop()
    }

    @Test func entriesOnTheStreamThatAreNotOursAreSkippedAndCounted() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "s1"), n2 = try await Self.node(redis, "s2")
        let erin = await Client(n2.port, .ws, uid: "erin")
        #expect(await eventually { await n1.server.connectedUIDs.any == ["erin"] })
        let bus = "chsk:{chsk}:bus"
        redis.cli(["XADD", bus, "*", "foo", "bar"])
        redis.cli(["XADD", bus, "*", "n", "x", "i", "1", "s", "1", "k", "push", "u", "\"erin\"", "e", "[:unclosed"])
        redis.cli(["XADD", bus, "*", "n", "x", "k", "weird"])
        redis.cli(["XADD", bus, "*", "n", "x", "i", "1", "s", "2", "k", "push", "u", "\"erin\"", "e", "[:chsk/close]"])
        try await n1.server.send(Event("app/ok"), to: "erin")
        #expect(await eventually { erin.events == ["[:app/ok]"] })
        #expect(await eventually { n2.server.refusalCounts[.clusterBadMessage] == 4 })
        #expect(await erin.client.currentState.isOpen, "a forged [:chsk/close] on the stream closed nothing")
        await erin.stop()
        for node in [n1, n2] { await node.stop() }
    }

    @Test func entriesTrimmedBeforeANodeReadThemAreReportedAsAGap() async throws {
        let redis = try RedisProcess()
        let n1 = try await Self.node(redis, "g1") { $0.streamMaxLength = 100 }
        try await Task.sleep(for: .milliseconds(300))
        // 1000 entries in one atomic step, trimmed to about 100: the node cannot have read them.
        redis.cli(["EVAL", "for i = 1, 1000 do redis.call('XADD', KEYS[1], 'MAXLEN', '~', 100, '*', 'n', 'g1', 'k', 'noop') end return 1",
                   "1", "chsk:{chsk}:bus"])
        #expect(await eventually { n1.server.refusalCounts[.clusterGap] == 1 })
        // It goes on working: a second node's push reaches a client here.
        let n2 = try await Self.node(redis, "g2")
        let fay = await Client(n1.port, .ws, uid: "fay")
        #expect(await eventually { await n2.server.connectedUIDs.any == ["fay"] })
        try await n2.server.send(Event("app/after-gap"), to: "fay")
        #expect(await eventually { fay.events == ["[:app/after-gap]"] })
        #expect(n1.server.refusalCounts[.clusterGap] == 1)
        await fay.stop()
        for node in [n1, n2] { await node.stop() }
    }

    @Test func badEndpointsGiveAClearErrorNeverACrash() async throws {
        func failure(_ url: String, _ change: (inout RedisBroker.Options) -> Void = { _ in }) async -> RedisBrokerError? {
            do { _ = try await RedisBroker(url: url, options: Self.options(change)); return nil } catch { return error }
        }
        guard case .badURL = await failure("http://127.0.0.1:6379") else { Issue.record("http:// accepted"); return }
        guard case .badURL = await failure("redis://127.0.0.1:99999") else { Issue.record("port 99999 accepted"); return }
        let closed = ChildProcess.freePort()
        guard case .cannotConnect(_, let why) = await failure("redis://127.0.0.1:\(closed)") else { Issue.record("closed port"); return }
        #expect(why.lowercased().contains("refused"), "\(why)")

        let locked = try RedisProcess(password: "s3cret")
        guard case .authentication(_, let wrong) = await failure("redis://:nope@127.0.0.1:\(locked.port)") else { Issue.record("wrong password"); return }
        #expect(wrong.contains("WRONGPASS") || wrong.contains("invalid"), "\(wrong)")
        guard case .authentication(_, let none) = await failure("redis://127.0.0.1:\(locked.port)") else { Issue.record("no password"); return }
        #expect(none.contains("NOAUTH"), "\(none)")
        #expect(await failure(locked.url) == nil, "the right password works")

        // An HTTP server is no Redis.
        let http = try await InProcessServer()
        guard case .notRedis = await failure("redis://127.0.0.1:\(http.port)") else { Issue.record("HTTP port taken for Redis"); return }
        await http.stop()
        // Nor is a port that accepts and never answers (the command timeout ends the wait).
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, len) == 0 && listen(silent, 4) == 0 && getsockname(silent, $0, &len) == 0 } }
        let started = Date()
        guard case .notRedis = await failure("redis://127.0.0.1:\(UInt16(bigEndian: addr.sin_port))", { $0.commandTimeout = .milliseconds(300) }) else {
            Issue.record("a silent port taken for Redis"); return
        }
        #expect(Date().timeIntervalSince(started) < 5)

        // The command line: one line and exit 3 when Redis cannot be reached, usage (64) for a bad URL.
        let unreachable = ChildProcess.run(Checkout.chsk.path, ["serve", "--port", "0", "--redis", "redis://127.0.0.1:\(closed)"], timeout: 30)
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.contains("cannot connect to Redis at redis://127.0.0.1:\(closed)"), "\(unreachable.stderr)")
        let badURL = ChildProcess.run(Checkout.chsk.path, ["serve", "--port", "0", "--redis", "rediss://example"], timeout: 30)
        #expect(badURL.status == 64)
        #expect(badURL.stderr.contains("TLS (rediss://) is not supported"), "\(badURL.stderr)")
    }
}
