import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import TestSupport
import Testing
import Transit

/// Issue 12: the client side loses no event and reports no false success. Every test counts
/// what the server's app received (an in-process `ChannelSocketServer`), not just exit codes.
@Suite(.serialized) struct ClientDeliveryTests {
    static var chsk: String { ServeProcess.executable.path }

    static func client(_ url: String, type: ClientType, proto: ProtocolOption, id: String, csrf: String? = nil) -> ChannelSocketClient {
        ChannelSocketClient(url: url, options: .init(type: type, protocolGeneration: proto, clientID: id, csrfToken: csrf,
                                                     params: ["uid": "u-\(id)"],
                                                     backoff: Backoff(cap: .seconds(2), floor: .milliseconds(100))),
                            transport: NIOClientTransport())
    }

    static let combinations: [(ClientType, ProtocolOption)] = [(.ws, .v1), (.ws, .v2), (.ajax, .v1), (.ajax, .v2)]

    /// N events through one library client, then `disconnect()` at once: the server read all
    /// N, in order (the WebSocket `send` used to return before its frame was written, and
    /// `disconnect()` closed TCP without a close handshake).
    @Test(arguments: combinations)
    func oneClientDeliversEveryEventInOrder(type: ClientType, proto: ProtocolOption) async throws {
        let server = try await InProcessServer()
        let n = type == .ws ? 1000 : 200
        let client = Self.client(server.url, type: type, proto: proto, id: "one-\(type.rawValue)-\(proto.rawValue)")
        await client.start()
        try await client.waitUntilOpen(timeout: .seconds(10))
        for i in 0..<n { try await client.send(Event("count/n", .integer(Int64(i)))) }
        await client.disconnect()
        let got = await server.waitFor(n, of: "count/n", seconds: 10)
        print("library client \(type.rawValue) \(proto.rawValue): sent \(n), server received \(got.count)")
        #expect(got.count == n)
        #expect(got == (0..<n).map { .integer(Int64($0)) }, "out of order or lost")
        await server.stop()
    }

    /// `chsk send` processes one after another, without `--reply`: every event arrived. 200
    /// processes over WebSocket (v1 and v2: the transport that lost events), 50 over Ajax
    /// (about 55 ms per process here: 200 × 4 would add ~45 s to CI).
    @Test(arguments: combinations)
    func sendProcessesDeliverEveryEvent(type: ClientType, proto: ProtocolOption) async throws {
        let server = try await InProcessServer()
        let n = type == .ws ? 200 : 50
        let start = Date()
        var failures: [String] = []
        for i in 0..<n {
            let r = ServeProcess.run(Self.chsk, ["send", server.url, "[:count/n \(i)]", "--type", type.rawValue,
                                                 "--protocol", proto.rawValue, "--uid", "p"], timeout: 30)
            if r.status != 0 { failures.append("\(i): \(r.status) \(r.output)") }
        }
        let got = await server.waitFor(n, of: "count/n", seconds: 10)
        print("chsk send ×\(n) \(type.rawValue) \(proto.rawValue): server received \(got.count) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(got.count == n)
        #expect(got == (0..<n).map { .integer(Int64($0)) })
        await server.stop()
    }

    /// `chsk send URL -`: stdin lines over one connection, in order; with --reply one reply per line.
    @Test(arguments: [ClientType.ws, .ajax])
    func sendReadsEventsFromStdin(type: ClientType) async throws {
        let server = try await InProcessServer()
        let lines = (0..<50).map { "[:count/n \($0)]" }.joined(separator: "\n") + "\n"
        let r = ChildProcess.run(Self.chsk, ["send", server.url, "-", "--type", type.rawValue, "--uid", "s"], stdin: Array(lines.utf8),
                                 mergeStderr: true, timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        let got = await server.waitFor(50, of: "count/n")
        #expect(got == (0..<50).map { .integer(Int64($0)) })
        #expect(server.senders(of: "count/n").count == 1, "one connection, one client id")
        let replies = ChildProcess.run(Self.chsk, ["send", server.url, "-", "--reply", "--type", type.rawValue, "--uid", "s"],
                                       stdin: Array("[:my/a 1]\n\n[:my/b 2]\n".utf8), timeout: 30)
        #expect(replies.status == 0)
        let out = replies.output.split(separator: "\n").map(String.init)
        #expect(out.count == 2 && out[0].hasPrefix("{:echo [:my/a 1]") && out[1].hasPrefix("{:echo [:my/b 2]"), "\(out)")
        let bad = ChildProcess.run(Self.chsk, ["send", server.url, "-", "--type", type.rawValue], stdin: Array("[:count/m 1]\n[:oops\n[:count/m 2]\n".utf8),
                                   mergeStderr: true, timeout: 30)
        #expect(bad.status == 65 && bad.output.contains("line 2"), "\(bad.output)")
        #expect(await server.waitFor(1, of: "count/m", seconds: 2) == [1])
        await server.stop()
    }

    /// A 403 on the WebSocket upgrade is a rejection: exit 4, the status and the body named.
    @Test func webSocketUpgradeRefusalIsARejection() async throws {
        let server = try await InProcessServer(csrfToken: "tok")
        for type in ["ws", "ajax", "auto"] {
            let r = ServeProcess.run(Self.chsk, ["send", server.url, "[:count/n 1]", "--type", type, "--csrf-token", "bad"], timeout: 30)
            #expect(r.status == 4, "\(type): \(r.output)")
            #expect(r.output.contains("HTTP 403") && r.output.contains("Bad CSRF token"), "\(type): \(r.output)")
            #expect(!r.output.contains("\n") || r.output.split(separator: "\n").count == 1, "one line: \(r.output)")
        }
        #expect(server.data(of: "count/n").isEmpty)
        let client = Self.client(server.url, type: .ws, proto: .auto, id: "rej", csrf: "bad")
        await client.start()
        await #expect(throws: OpenError.rejected(status: 403, message: "Bad CSRF token")) {
            try await client.waitUntilOpen(timeout: .seconds(10))
        }
        await client.disconnect()
        await server.stop()
    }

    /// `waitUntilOpen`: opens, times out with the last failure, fails fast when asked, ends
    /// with `.stopped` on disconnect; `send`/`request` right after `start()` wait for the
    /// open, and fail with `.closed` when not started.
    @Test func waitUntilOpenAndSendingBeforeTheOpen() async throws {
        let server = try await InProcessServer()
        for type in [ClientType.ws, .ajax] {
            let early = Self.client(server.url, type: type, proto: .auto, id: "early-\(type.rawValue)")
            await #expect(throws: RequestError.closed) { try await early.send(Event("count/early", 0)) }
            await #expect(throws: OpenError.stopped) { try await early.waitUntilOpen(timeout: .seconds(1)) }
            await early.start()
            try await early.send(Event("count/early", 1))    // waits for the open
            let reply = try await early.request(Event("my/req", 2), timeout: .seconds(5))
            #expect(reply[.kw("echo")] == [.keyword("my/req"), 2])
            try await early.waitUntilOpen(timeout: .milliseconds(1))   // open: returns at once
            await early.disconnect()
        }
        #expect(await server.waitFor(2, of: "count/early") == [1, 1])

        let deadPort = ChildProcess.freePort()
        let dead = Self.client("http://127.0.0.1:\(deadPort)/chsk", type: .ws, proto: .auto, id: "dead")
        await dead.start()
        let start = Date()
        do throws(OpenError) {
            try await dead.waitUntilOpen(timeout: .milliseconds(800))
            Issue.record("opened a dead port")
        } catch {
            guard case .timeout(let failure?) = error else { Issue.record("\(error)"); return }
            #expect(failure.message.contains("connection refused") && failure.message.contains("127.0.0.1:\(deadPort)"), "\(failure)")
        }
        #expect(Date().timeIntervalSince(start) < 3)
        do throws(OpenError) {
            try await dead.waitUntilOpen(timeout: .seconds(10), failFast: true)
            Issue.record("opened a dead port")
        } catch {
            guard case .unreachable = error else { Issue.record("\(error)"); return }
        }
        let waiting = Task { () -> OpenError? in
            do throws(OpenError) { try await dead.waitUntilOpen(timeout: .seconds(30)); return nil } catch { return error }
        }
        try await Task.sleep(for: .milliseconds(100))
        await dead.disconnect()
        #expect(await waiting.value == .stopped)
        do throws(RequestError) {
            try await Self.client("http://127.0.0.1:\(deadPort)/chsk", type: .ajax, proto: .auto, id: "dead2").send(Event("a/b"))
            Issue.record("sent without start()")
        } catch {
            #expect(error == .closed)
        }
        let notOpen = Self.client("http://127.0.0.1:\(deadPort)/chsk", type: .ajax, proto: .auto, id: "dead3")
        await notOpen.start()
        do throws(RequestError) {
            try await notOpen.send(Event("a/b"), timeout: .milliseconds(500))
            Issue.record("sent to a dead port")
        } catch {
            guard case .notOpen(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("connection refused"), "\(why)")
        }
        await notOpen.disconnect()
        await server.stop()
    }

    /// README's library snippet, as written there (only the port differs), against the
    /// in-process server.
    @Test func readmeClientSnippetRuns() async throws {
        let server = try await InProcessServer()
        let port = server.port
        // README snippet begin
        let client = ChannelSocketClient(url: "http://127.0.0.1:\(port)/chsk", options: .init(params: ["uid": "alice"]),
                                         transport: NIOClientTransport())
        let events = client.events                                          // handshake, pushes
        Task { for await event in events { print(event) } }
        await client.start()
        try await client.waitUntilOpen(timeout: .seconds(10))               // or: send/request wait for it
        let reply = try await client.request(Event("my-app/req", [.kw("q"): 1]), timeout: .seconds(8))
        try await client.send(Event("my-app/hello", "hi"))                  // returns once written
        await client.disconnect()                                           // after the close handshake
        // README snippet end
        #expect(reply[.kw("uid")] == "alice")
        #expect(server.data(of: "my-app/hello") == ["hi"])
        // The README holds the same lines.
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let snippet = source.components(separatedBy: "// README snippet begin\n")[1].components(separatedBy: "        // README snippet end")[0]
            .split(separator: "\n", omittingEmptySubsequences: false).map { String($0.dropFirst(8)) }.joined(separator: "\n")
            .replacingOccurrences(of: "\\(port)", with: "8090")
        let readme = try String(contentsOf: ServeProcess.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(snippet), "README's client snippet differs from this test's copy:\n\(snippet)")
        await server.stop()
    }

    /// `chsk connect` from a pipe: the first line waits for the connection (no sleep before it).
    @Test(arguments: ["ws", "ajax"])
    func connectFromAPipeWaitsForTheConnection(type: String) async throws {
        let server = try await InProcessServer()
        let r = ChildProcess.run(Self.chsk, ["connect", server.url, "--uid", "pia", "--type", type],
                                 stdin: Array("? [:my/req 1]\n[:count/c 7]\n".utf8), mergeStderr: true, timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("⇐ {:echo [:my/req 1], :uid \"pia\""), "\(r.output)")
        #expect(!r.output.contains("✗"), "\(r.output)")
        #expect(await server.waitFor(1, of: "count/c") == [7])
        let dead = ChildProcess.run(Self.chsk, ["connect", "http://127.0.0.1:\(ChildProcess.freePort())/chsk", "--type", type],
                                    stdin: Array("? [:my/req 1]\n".utf8), mergeStderr: true, timeout: 30)
        #expect(dead.status == 3 && dead.output.contains("connection refused"), "\(dead.output)")
        await server.stop()
    }

    /// `chsk bench` that measured nothing says why and exits non-zero, within its duration
    /// and a few seconds (a dead server took 31 s and exited 0; a server without the echo app
    /// ran 10 s instead of 2 and exited 0).
    @Test func benchThatMeasuredNothingFails() async throws {
        let deadURL = "http://127.0.0.1:\(ChildProcess.freePort())/chsk"
        var start = Date()
        let dead = ServeProcess.run(Self.chsk, ["bench", deadURL, "conns", "--connections", "5", "--duration", "1"], timeout: 60)
        #expect(dead.status == 3, "\(dead.output)")
        #expect(dead.output.contains("connection refused"), "\(dead.output)")
        #expect(Date().timeIntervalSince(start) < 5)
        let noApp = try ServeProcess([])
        defer { _ = noApp.terminate() }
        start = Date()
        let echo = ServeProcess.run(Self.chsk, ["bench", "http://127.0.0.1:\(noApp.port)/chsk", "echo", "--connections", "2", "--duration", "2"], timeout: 60)
        let seconds = Date().timeIntervalSince(start)
        #expect(echo.status == 1, "\(echo.output)")
        #expect(echo.output.contains("measured nothing") && echo.output.contains("--echo"), "\(echo.output)")
        #expect(seconds < 6, "took \(seconds) s for a 2 s bench")
    }

    /// `chsk await --count 2` with one event in time prints it and says 1 of 2 arrived.
    @Test func awaitCountsWhatArrived() async throws {
        let server = try await InProcessServer()
        let job = BackgroundJob {
            ServeProcess.run(Self.chsk, ["await", server.url, "--uid", "zed", "--count", "2", "--timeout", "3"], timeout: 30)
        }
        let deadline = Date().addingTimeInterval(10)
        while await server.server.connectedUIDs.any.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await server.server.send(Event("srv/one", 1), to: "zed", flush: true)
        let r = job.wait(timeout: 20)
        #expect(r?.status == 5)
        #expect(r?.output.contains("[:srv/one 1]") == true && r?.output.contains("1 of 2 event(s) arrived") == true, "\(r?.output ?? "")")
        await server.stop()
    }

    /// A server speaking Transit to an EDN client: said at once, with the packer to use.
    @Test(arguments: ["ws", "ajax"])
    func packerMismatchIsNamed(type: String) async throws {
        let server = try await InProcessServer(packer: TransitPacker(format: .json))
        let start = Date()
        let r = ServeProcess.run(Self.chsk, ["send", server.url, "[:count/n 1]", "--type", type], timeout: 30)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.output.contains("try --packer transit-json"), "\(r.output)")
        #expect(Date().timeIntervalSince(start) < 5)
        await server.stop()
    }
}
