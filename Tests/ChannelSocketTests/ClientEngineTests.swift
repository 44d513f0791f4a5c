import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import TestSupport
import Testing

/// Collects a client's events and state changes for assertions.
final class ClientProbe: @unchecked Sendable {
    let client: ChannelSocketClient
    private let lock = NSLock()
    private var eventList: [Event] = []
    private var stateList: [ClientStateChange] = []
    private var tasks: [Task<Void, Never>] = []

    init(_ client: ChannelSocketClient) {
        self.client = client
        tasks.append(Task { for await e in client.events { self.add(e) } })
        tasks.append(Task { for await s in client.stateChanges { self.add(s) } })
    }

    deinit { tasks.forEach { $0.cancel() } }

    private func add(_ e: Event) { lock.lock(); eventList.append(e); lock.unlock() }
    private func add(_ s: ClientStateChange) { lock.lock(); stateList.append(s); lock.unlock() }
    var events: [String] { lock.lock(); defer { lock.unlock() }; return eventList.map(\.description) }
    var states: [ClientStateChange] { lock.lock(); defer { lock.unlock() }; return stateList }
}

/// A server that replays the S>C frames of a recording to our client: each frame the client
/// sends is answered with the frames the real server sent after the recorded one (callback ids
/// substituted by the ones our client chose).
struct ScriptedTransport: ClientTransport {
    let script: Script

    final class Script: @unchecked Sendable {
        let lock = NSLock()
        var opening: [String]
        var answers: [(request: String, replies: [String])]
        var received: [String] = []
        init(opening: [String], answers: [(String, [String])]) {
            self.opening = opening
            self.answers = answers.map { (request: $0.0, replies: $0.1) }
        }
    }

    func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
        ScriptedSocket(script: script)
    }

    func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
        throw TransportError("no HTTP in this script")
    }
}

final class ScriptedSocket: ClientWebSocket, @unchecked Sendable {
    let events: AsyncStream<ClientWebSocketEvent>
    let sink: AsyncStream<ClientWebSocketEvent>.Continuation
    let script: ScriptedTransport.Script

    init(script: ScriptedTransport.Script) {
        self.script = script
        (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self)
        for frame in script.opening { sink.yield(.message(Array(frame.utf8))) }
    }

    func send(_ message: [UInt8], binary: Bool) async throws {
        let text = String(decoding: message, as: UTF8.self)
        let next = script.lock.withLock { () -> (request: String, replies: [String])? in
            script.received.append(text)
            let next = script.answers.first
            if next != nil { script.answers.removeFirst() }
            return next
        }
        guard let next else { return }
        // Substitute the recorded callback id with ours.
        let recordedID = next.request.range(of: "\"[0-9a-f]{6}\"", options: .regularExpression).map { String(next.request[$0]) }
        let ourID = text.range(of: "\"[0-9a-f]{6}\"", options: .regularExpression).map { String(text[$0]) }
        for reply in next.replies {
            var r = reply
            if let recordedID, let ourID { r = r.replacingOccurrences(of: recordedID, with: ourID) }
            sink.yield(.message(Array(r.utf8)))
        }
    }

    func close(code: UInt16, reason: String) async {
        sink.yield(.closed(code: code, reason: reason, clean: true))
        sink.finish()
    }
}

/// An Ajax server that answers polls and POSTs with recorded bodies.
struct ScriptedAjaxTransport: ClientTransport {
    final class Script: @unchecked Sendable {
        let lock = NSLock()
        var polls: [(status: Int, body: String)]
        var posts: [(status: Int, body: String)]
        var requests: [ClientHTTPRequest] = []
        init(polls: [(Int, String)], posts: [(Int, String)]) {
            self.polls = polls.map { (status: $0.0, body: $0.1) }
            self.posts = posts.map { (status: $0.0, body: $0.1) }
        }
    }
    let script: Script

    func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
        throw TransportError(status: 400, "no WebSocket in this script")
    }

    func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
        let next = script.lock.withLock { () -> (status: Int, body: String)? in
            script.requests.append(request)
            if request.method == "POST" { return script.posts.isEmpty ? nil : script.posts.removeFirst() }
            return script.polls.isEmpty ? nil : script.polls.removeFirst()
        }
        guard let next else {
            try await Task.sleep(for: .seconds(30))   // like a held poll
            throw TransportError(timedOut: "request timed out")
        }
        return ClientHTTPResponse(status: next.status, body: Array(next.body.utf8))
    }
}

@Suite struct ClientEngineTests {
    static func settle(_ rounds: Int = 30) async {
        for _ in 0..<rounds { await Task.yield(); try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// The real 1.14 browser client's console (browser-ws-v1-console.txt): state, handshake,
    /// reply, push — our client must report the same for the same server frames.
    @Test func acceptsRealV1ServerFramesLikeTheBrowserClient() async throws {
        let script = ScriptedTransport.Script(
            opening: [#"-[:chsk/handshake ["erin" nil {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "erin"}]]"#],
            answers: [
                (#"+[[:test/hello {:n 7, :from "browser"}] "f5ea7e"]"#,
                 [#"+[{:echo [:test/hello {:n 7, :from "browser"}], :uid "erin", :client-id "c"} "f5ea7e"]"#]),
                (#"+[[:test/echo-push {:from "browser"}]]"#, [#"-[[:test/echo {:from "browser"}]]"#, "-:chsk/ws-ping"]),
            ])
        let client = ChannelSocketClient(url: "http://127.0.0.1:8190/chsk",
                                         options: .init(type: .ws, clientID: "c", csrfToken: "test-csrf-token"),
                                         transport: ScriptedTransport(script: script))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let reply = try await client.request(Event("test/hello", [.kw("n"): 7, .kw("from"): "browser"]), timeout: .seconds(5))
        #expect(reply == (try EDNReader.read(#"{:echo [:test/hello {:n 7, :from "browser"}], :uid "erin", :client-id "c"}"#)))
        try await client.send(Event("test/echo-push", [.kw("from"): "browser"]))
        #expect(await eventually { probe.events.count >= 3 })
        #expect(probe.events == [
            #"[:chsk/handshake ["erin" nil {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "erin"} true]]"#,
            #"[:chsk/recv [:test/echo {:from "browser"}]]"#,
            "[:chsk/recv [:chsk/ws-ping]]",
        ])
        // The frames our client sent, as the 1.14 client sends them: always '+'-wrapped.
        #expect(script.received.count == 2 && script.received[1] == #"+[[:test/echo-push {:from "browser"}]]"#)
        #expect(script.received[0].hasPrefix(#"+[[:test/hello {:n 7, :from "browser"}] ""#))
        // [:chsk/state [old new]] as the 1.14 console shows it.
        let first = try #require(probe.states.first)
        #expect(first.event(generation: .v1).description == #"[:chsk/state [{:type :ws, :open? false, :ever-opened? false, :csrf-token "test-csrf-token"} {:type :ws, :open? true, :ever-opened? true, :csrf-token "test-csrf-token", :uid "erin", :handshake-data {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "erin"}, :first-open? true}]]"#)
        await client.disconnect()
    }

    /// The real 1.21 JVM client's console (jvm-client-console.txt) for the same exchange.
    @Test func acceptsRealV2ServerFramesLikeTheJVMClient() async throws {
        let script = ScriptedTransport.Script(
            opening: [#"[[:chsk/handshake ["carol" nil {:server "sente-1.21.0/http-kit", :uid-param "carol"}]] nil]"#],
            answers: [
                (#"[[:test/hello {:from :jvm-client, :n 1}] "1442c7"]"#,
                 [#"[{:echo [:test/hello {:from :jvm-client, :n 1}], :uid "carol", :client-id "jvm-client-1"} "1442c7"]"#]),
                (#"[[:test/echo-push {:from :jvm-client}] nil]"#, [#"[[[:test/echo {:from :jvm-client}]] nil]"#, "[:chsk/ws-ping nil]"]),
                ("[[:chsk/ws-pong] nil]", []),
            ])
        let client = ChannelSocketClient(url: "ws://127.0.0.1:8090/chsk",
                                         options: .init(type: .ws, clientID: "jvm-client-1", csrfToken: "test-csrf-token"),
                                         transport: ScriptedTransport(script: script))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let reply = try await client.request(Event("test/hello", [.kw("from"): .kw("jvm-client"), .kw("n"): 1]), timeout: .seconds(5))
        #expect(reply[.kw("client-id")] == "jvm-client-1")
        try await client.send(Event("test/echo-push", [.kw("from"): .kw("jvm-client")]))
        #expect(await eventually { script.received.count == 3 })
        #expect(script.received[2] == "[[:chsk/ws-pong] nil]")   // answered the server ping
        #expect(probe.events == [
            #"[:chsk/handshake ["carol" nil {:server "sente-1.21.0/http-kit", :uid-param "carol"} true]]"#,
            "[:test/echo {:from :jvm-client}]",
            "[:chsk/ws-ping]",
        ])
        let opened = try #require(probe.states.first { $0.new.isOpen })
        let console = try EDNReader.read(#"[:chsk/state [{:type :ws, :open? false, :ever-opened? false, :csrf-token "test-csrf-token"} {:first-open? true, :open-changed? true, :uid "carol", :type :ws, :handshake-data {:server "sente-1.21.0/http-kit", :uid-param "carol"}, :ever-opened? true, :open? true, :opened? true, :csrf-token "test-csrf-token"} true]]"#)
        #expect(opened.event(generation: .v2).value == console)
        await client.disconnect()
        #expect(await eventually { probe.states.last?.new.isOpen == false })
        let closed = try #require(probe.states.last)
        #expect(closed.new.lastClose?[.kw("reason")] == .kw("requested-disconnect"))
    }

    /// The real 1.14 browser client over Ajax (browser-ajax-v1.txt and its console).
    @Test func acceptsRealV1AjaxFramesLikeTheBrowserClient() async throws {
        let script = ScriptedAjaxTransport.Script(
            polls: [(200, #"-[:chsk/handshake ["frank" nil {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "frank"}]]"#),
                    (200, #"-[[:test/echo {:from "browser"}]]"#), (200, "-:chsk/timeout")],
            posts: [(200, #"-{:echo [:test/hello {:n 7, :from "browser"}], :uid "frank", :client-id "c"}"#), (200, "-:chsk/dummy-cb-200")])
        let client = ChannelSocketClient(url: "http://127.0.0.1:8192/chsk",
                                         options: .init(type: .ajax, protocolGeneration: .v1, clientID: "c", csrfToken: "test-csrf-token"),
                                         transport: ScriptedAjaxTransport(script: script))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { probe.events.count >= 2 })
        #expect(probe.events == [
            #"[:chsk/handshake ["frank" nil {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "frank"} true]]"#,
            #"[:chsk/recv [:test/echo {:from "browser"}]]"#,
        ])
        let first = try #require(probe.states.first)
        #expect(first.event(generation: .v1).description == #"[:chsk/state [{:type :ajax, :open? false, :ever-opened? false, :csrf-token "test-csrf-token"} {:type :ajax, :open? true, :ever-opened? true, :csrf-token "test-csrf-token", :uid "frank", :handshake-data {:server "sente-1.14.0-RC2/http-kit-2.3.0", :uid-param "frank"}, :first-open? true}]]"#)
        let reply = try await client.request(Event("test/hello", [.kw("n"): 7, .kw("from"): "browser"]), timeout: .seconds(5))
        #expect(reply[.kw("uid")] == "frank")
        try await client.send(Event("test/echo-push", [.kw("from"): "browser"]))
        let requests = script.lock.withLock { script.requests }
        // The handshake poll carries handshake?=true (1.14); POST bodies carry the +-wrapped event, %2B-encoded.
        #expect(requests[0].url.contains("handshake%3F=true"))
        #expect(requests[0].headers["X-CSRF-Token"] == "test-csrf-token")
        let posts = requests.filter { $0.method == "POST" }.map { String(decoding: $0.body ?? [], as: UTF8.self) }
        #expect(posts.count == 2)
        #expect(posts[0].contains("ppstr=%2B%5B%5B%3Atest%2Fhello") && posts[0].contains("%5D%200%5D"))
        #expect(posts[0].contains("csrf-token=test-csrf-token"))
        #expect(posts[1].contains("ppstr=%2B%5B%5B%3Atest%2Fecho-push"))
        await client.disconnect()
    }

    @Test func ajax403ClosesAndBacksOff() async throws {
        let script = ScriptedAjaxTransport.Script(polls: [(403, "Bad CSRF token")], posts: [])
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ajax, csrfToken: "nope"),
                                         transport: ScriptedAjaxTransport(script: script))
        await client.start()
        #expect(await eventually { await client.currentState.lastClose != nil })
        #expect(await client.lastFailure?.status == 403)
        #expect(await !client.currentState.isOpen)
        #expect(await eventually { await client.currentState.nextReconnect != nil })
        await client.disconnect()
    }

    // MARK: against our own server, in memory

    static func server(_ configure: (inout ChannelSocketServerOptions) -> Void = { _ in }) throws -> ChannelSocketServer {
        var options = ChannelSocketServerOptions(userID: { $0.params["uid"].map(EDNValue.string) }, csrf: .token("tok"))
        configure(&options)
        let server = try ChannelSocketServer(options: options)
        let app = EchoApp(server: server)
        Task { await app.run() }
        return server
    }

    @Test(arguments: [(ClientType.ws, ProtocolOption.auto), (.ws, .v1), (.ajax, .auto), (.ajax, .v1), (.auto, .auto)])
    func requestReplyAndPushInEveryTransportAndGeneration(type: ClientType, proto: ProtocolOption) async throws {
        let server = try Self.server { $0.wire = proto == .v1 ? .v1 : .auto; $0.sendBufferAjax = .milliseconds(5); $0.sendBufferWS = .milliseconds(5) }
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk",
                                         options: .init(type: type, protocolGeneration: proto, clientID: "c1", csrfToken: "tok", params: ["uid": "ann"]),
                                         transport: InMemoryTransport(server: server))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let reply = try await client.request(Event("my/req", [.kw("q"): 1]), timeout: .seconds(5))
        #expect(reply == [.kw("echo"): [.kw("my/req"), [.kw("q"): 1]], .kw("uid"): "ann", .kw("client-id"): "c1"])
        try await client.send(Event("test/echo-push", "hi"))
        #expect(await eventually { probe.events.contains { $0.contains("[:test/echo \"hi\"]") } })
        #expect(await client.currentState.type == (type == .ajax ? "ajax" : "ws"))
        #expect(await client.currentState.generation == (proto == .v1 ? .v1 : .v2))
        await client.disconnect()
        await server.shutdown()
    }

    @Test func autoFallsBackToAjaxWhenTheUpgradeIsRefused() async throws {
        let server = try Self.server()
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(type: .auto, csrfToken: "tok", params: ["uid": "u"]),
                                         transport: InMemoryTransport(server: server, refuseWebSocket: true))
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let state = await client.currentState
        #expect(state.type == "ajax")
        #expect(state.lastClose?[.kw("reason")] == .kw("downgrading-ws-to-ajax"))
        #expect(state.lastWSError != nil)
        let reply = try await client.request(Event("a/b"), timeout: .seconds(5))
        #expect(reply[.kw("uid")] == "u")
        await client.disconnect()
    }

    @Test func sendWhileClosedFailsAtOnceAndTimeoutsAreTyped() async throws {
        let server = try Self.server()
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ws, csrfToken: "tok"), transport: InMemoryTransport(server: server))
        await #expect(throws: RequestError.closed) { try await client.send(Event("a/b")) }
        await #expect(throws: RequestError.closed) { _ = try await client.request(Event("a/b"), timeout: .seconds(1)) }
        // A server app that never answers: the request times out (time driven by the clock).
        let clock = ManualClock()
        let silent = try ChannelSocketServer(options: .init(csrf: .token("tok")))
        let c2 = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ws, csrfToken: "tok", clock: clock),
                                     transport: InMemoryTransport(server: silent))
        await c2.start()
        #expect(await eventually { await c2.currentState.isOpen })
        let outcome = Task { () -> RequestError? in
            do throws(RequestError) {
                _ = try await c2.request(Event("a/b"), timeout: .seconds(5))
                return nil
            } catch { return error }
        }
        await clock.advance(by: .milliseconds(4_900))
        await clock.advance(by: .milliseconds(100))
        #expect(await outcome.value == .timeout)
        #expect(RequestError.timeout.keyword == Keyword("chsk/timeout"))
        await c2.disconnect()
        await #expect(throws: RequestError.closed) { try await c2.send(Event("a/b")) }
    }

    @Test func badCSRFKeepsTheClientClosedAndRetrying() async throws {
        let server = try Self.server()
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ajax, csrfToken: "wrong"), transport: InMemoryTransport(server: server))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { probe.states.contains { $0.new.lastClose != nil } })
        #expect(await !client.currentState.isOpen)
        #expect(await eventually { await client.currentState.nextReconnect != nil })
        await client.disconnect()
    }

    @Test func reconnectsAfterTheServerDropsTheSocket() async throws {
        let server = try Self.server()
        let clock = ManualClock()
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ws, csrfToken: "tok", params: ["uid": "u"], clock: clock),
                                         transport: InMemoryTransport(server: server))
        let probe = ClientProbe(client)
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        try await server.send(Event("chsk/close"), to: "u")       // server closes every socket of u
        #expect(await eventually { probe.states.contains { !$0.new.isOpen && $0.old.isOpen } })
        #expect(await eventually { await client.currentState.nextReconnect != nil })
        #expect(await !client.currentState.isOpen)
        await clock.advance(by: .milliseconds(250))                 // the first back-off step (the floor)
        #expect(await eventually { await client.currentState.isOpen })
        #expect(probe.events.filter { $0.hasPrefix("[:chsk/handshake") }.count == 2)
        #expect(probe.events.last { $0.hasPrefix("[:chsk/handshake") }?.hasSuffix("false]]") == true)   // not the first handshake
        await client.disconnect()
    }

    /// One observer of `stateChanges`: every transition it was handed, and whether its stream ended.
    final class StateObserver: Sendable {
        final class Seen: Sendable {
            let state = Mutex<(changes: [ClientStateChange], ended: Bool)>(([], false))
        }
        let seen = Seen()
        let task: Task<Void, Never>

        init(_ stream: AsyncStream<ClientStateChange>) {
            let seen = self.seen
            task = Task {
                for await change in stream { seen.state.withLock { $0.changes.append(change) } }
                seen.state.withLock { $0.ended = true }
            }
        }

        var changes: [ClientStateChange] { seen.state.withLock { $0.changes } }
        var ended: Bool { seen.state.withLock { $0.ended } }
        /// `open?` and the close reason after each transition, comparable across observers.
        var summary: [String] { changes.map { "\($0.new.isOpen) \($0.new.lastClose?[.kw("reason")].map { "\($0)" } ?? "-")" } }
    }

    /// `stateChanges` has any number of observers: two see the same transitions in the same
    /// order, one made later sees only what came after it, one that never reads keeps only
    /// its bounded buffer (the newest), and `finish()` ends them all.
    @Test func everyStateObserverSeesTheSameTransitions() async throws {
        let server = try Self.server()
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ws, csrfToken: "tok", params: ["uid": "u"]),
                                         transport: InMemoryTransport(server: server))
        let first = StateObserver(client.stateChanges), second = StateObserver(client.stateChanges)
        let unread = client.stateChanges(bufferingNewest: 2)
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        #expect(await eventually { first.summary.contains("true -") && second.summary.contains("true -") })
        let before = first.changes.count
        let late = StateObserver(client.stateChanges)
        await client.reconnect()
        #expect(await eventually { await client.currentState.isOpen && first.changes.count > before + 1 })
        await client.disconnect()
        #expect(await eventually { await !client.currentState.isOpen })
        await client.finish()
        #expect(await eventually { first.ended && second.ended && late.ended })
        #expect(first.summary.count >= 4, "\(first.summary)")
        #expect(first.summary == second.summary)
        #expect(first.changes.map(\.new) == second.changes.map(\.new))
        #expect(late.changes.map(\.new) == Array(first.changes.map(\.new).dropFirst(before)), "\(late.summary) vs \(first.summary)")
        #expect(late.summary.contains { $0.hasPrefix("false") } && late.summary.last?.hasPrefix("false") == true)
        var buffered: [ClientState] = []
        for await change in unread { buffered.append(change.new) }
        #expect(buffered == Array(first.changes.map(\.new).suffix(2)))
        // After finish(), a new observer's stream ends at once.
        var afterwards = 0
        for await _ in client.stateChanges { afterwards += 1 }
        #expect(afterwards == 0)
        await server.shutdown()
    }

    @Test func v2KeepAlivePingsAndReconnectsWithoutPong() async throws {
        let clock = ManualClock()
        // A server whose app answers nothing and which never sends "pong": a plain v1-style server.
        let server = try ChannelSocketServer(options: .init(csrf: .token("tok"), wire: .v2, wsKeepAlive: .seconds(1000), clock: clock))
        let client = ChannelSocketClient(url: "http://x/chsk", options: .init(type: .ws, csrfToken: "tok", clock: clock),
                                         transport: InMemoryTransport(server: server))
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        await clock.advance(by: .seconds(10))          // idle 10 s (20 s halved) → ping with callback
        await clock.advance(by: .milliseconds(10))
        // Our server answers "pong", so the client stays open.
        #expect(await client.currentState.isOpen)
        await client.disconnect()
    }

    @Test func backoffIsCappedJitteredAndNeverZero() {
        let b = Backoff()
        for attempt in 1...40 {
            let d = b.delay(attempt: attempt)
            #expect(d >= .milliseconds(250) && d <= .seconds(30))
        }
        #expect((1...200).map { _ in Backoff().delay(attempt: 10) }.contains { $0 < .seconds(10) })   // full jitter
    }
}

/// Every S>C frame of every WebSocket recording, fed to our client in order: it must classify
/// each as the real client does — handshake, reply (cb id: consumed silently when unknown),
/// server ping (answered on v2), push batch (one event per element) — and never fail.
@Suite struct ClientAcceptsRecordedFramesTests {
    @Test(arguments: ["sente-1.21.0/ws-edn.txt", "sente-1.21.0/browser-ws.txt", "sente-1.21.0/jvm-client-ws.txt",
                      "sente-1.14.0-RC2/ws-edn-v1.txt", "sente-1.14.0-RC2/browser-ws-v1.txt"])
    func everyServerFrame(file: String) async throws {
        try #require(Transcripts.available)
        let frames = try Transcripts.lines(file).compactMap(Transcripts.parse).filter { $0.direction == "S>C" && $0.payload.hasPrefix("[txt] ") }
            .map { String($0.payload.dropFirst("[txt] ".count)) }
        // Only the first connection's handshake opens; later handshakes (second connections) are
        // re-handshakes to the same client, which Sente also accepts.
        let script = ScriptedTransport.Script(opening: frames, answers: [])
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(type: .ws, csrfToken: "t"),
                                         transport: ScriptedTransport(script: script))
        let probe = ClientProbe(client)
        await client.start()
        let v1 = file.contains("1.14")
        var expected: [String] = []
        var first = true
        for frame in frames {
            let body = v1 ? String(frame.dropFirst()) : frame
            let value = try EDNReader.read(body)
            let (inner, cb): (EDNValue, EDNValue?) = {
                if v1 {
                    if frame.hasPrefix("+"), let items = value.sequenceElements {
                        return (items[0], items.count > 1 ? .some(items[1]) : .none)
                    }
                    return (value, .none)
                }
                let items = value.sequenceElements ?? []
                return (items.first ?? .null, items.count > 1 && !items[1].isNull ? .some(items[1]) : .none)
            }()
            if cb != nil { continue }
            if case .vector(let hs) = inner, hs.first == .kw("chsk/handshake"), let args = hs[1].sequenceElements {
                let data = args.count > 2 ? args[2] : EDNValue.null
                expected.append(Event("chsk/handshake", [args[0], .null, data, .bool(first)]).description)
                first = false
            } else if inner == .kw("chsk/ws-ping") {
                expected.append(v1 ? "[:chsk/recv [:chsk/ws-ping]]" : "[:chsk/ws-ping]")
            } else if let events = inner.sequenceElements {
                for e in events { expected.append(v1 ? "[:chsk/recv \(e)]" : e.description) }
            }
        }
        #expect(expected.count >= 3, "the recording's frames must yield events")
        #expect(await eventually { probe.events.count >= expected.count })
        #expect(probe.events == expected, "\(file)")
        if !v1 {
            // Every server ping was answered with [[:chsk/ws-pong] nil].
            let pings = frames.filter { $0 == "[:chsk/ws-ping nil]" }.count
            let pongs = script.lock.withLock { script.received.filter { $0 == "[[:chsk/ws-pong] nil]" }.count }
            #expect(pongs == pings, "received \(script.lock.withLock { script.received }) events \(probe.events)")
        }
        await client.disconnect()
    }
}
