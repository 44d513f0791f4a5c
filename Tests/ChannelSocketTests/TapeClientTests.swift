import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import Testing
import TestSupport
import Transit

/// The client's tape path: typed replies (`request(_:_:as:)`) and typed pushes
/// (`events(_:as:)`) read straight from the wire bytes into the byte decoders' tape and
/// decoded from it with no `EDNValue` tree. It must make exactly what the tree path makes.
@Suite struct TapeClientTests {
    static func packer(_ name: String) -> any Packer {
        name == "edn" ? EDNPacker() : TransitPacker(format: .json)
    }

    // MARK: a scripted server replaying recorded frames

    /// What the scripted server sends: WebSocket messages on connect (or Ajax poll bodies, in
    /// order), and the values it answers requests with (the client's callback id put in).
    final class Replay: @unchecked Sendable {
        let lock = NSLock()
        let generation: WireGeneration
        let packer: any Packer
        var opening: [[UInt8]]
        var replies: [EDNValue]
        var sent: [String] = []

        init(generation: WireGeneration, packer: any Packer, opening: [[UInt8]], replies: [EDNValue]) {
            self.generation = generation
            self.packer = packer
            self.opening = opening
            self.replies = replies
        }

        /// The next reply, framed for the callback id of `message` (a request), if any.
        func answer(_ message: [UInt8]) -> [UInt8]? {
            let cb = (try? Framing.unpack(message, generation: generation, packer: packer))?.callbackID
            let reply = lock.withLock { () -> EDNValue? in
                sent.append(String(decoding: message, as: UTF8.self))
                guard cb != nil, !replies.isEmpty else { return nil }
                return replies.removeFirst()
            }
            guard let reply, let cb else { return nil }
            return try? Framing.pack(reply, callbackID: cb, generation: generation, packer: packer)
        }

        func nextPost() -> [UInt8]? {
            lock.withLock {
                guard !replies.isEmpty else { return nil }
                return try? Framing.pack(replies.removeFirst(), generation: generation, packer: packer)
            }
        }

        func nextPoll() -> [UInt8]? { lock.withLock { opening.isEmpty ? nil : opening.removeFirst() } }
    }

    struct ReplayTransport: ClientTransport {
        let replay: Replay
        let ajax: Bool

        func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
            if ajax { throw TransportError(status: 400, "no WebSocket in this script") }
            return ReplaySocket(replay)
        }

        func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
            guard ajax else { throw TransportError("no HTTP in this script") }
            if request.method == "POST" {
                guard let body = replay.nextPost() else { throw TransportError("no reply left") }
                return ClientHTTPResponse(status: 200, body: body)
            }
            guard let body = replay.nextPoll() else {
                try await Task.sleep(for: .seconds(30))   // like a held poll
                throw TransportError(timedOut: "request timed out")
            }
            return ClientHTTPResponse(status: 200, body: body)
        }
    }

    final class ReplaySocket: ClientWebSocket, @unchecked Sendable {
        let events: AsyncStream<ClientWebSocketEvent>
        let sink: AsyncStream<ClientWebSocketEvent>.Continuation
        let replay: Replay

        init(_ replay: Replay) {
            self.replay = replay
            (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self)
            for message in replay.opening { sink.yield(.message(message)) }
        }

        func send(_ message: [UInt8], binary: Bool) async throws {
            if let reply = replay.answer(message) { sink.yield(.message(reply)) }
        }

        func close(code: UInt16, reason: String) async {
            sink.yield(.closed(code: code, reason: reason, clean: true))
            sink.finish()
        }
    }

    /// The S>C frames of a WebSocket recording: the generation, the frames as sent (EDN) and
    /// as read (value and callback id).
    static func recording(_ file: String) throws -> (WireGeneration, [(bytes: [UInt8], frame: Frame)]) {
        let generation: WireGeneration = file.contains("1.14") ? .v1 : .v2
        let frames = try Transcripts.lines(file).compactMap(Transcripts.parse).filter { $0.direction == "S>C" && $0.payload.hasPrefix("[txt] ") }
            .map { Array($0.payload.dropFirst("[txt] ".count).utf8) }
        return (generation, try frames.map { ($0, try Framing.unpack($0, generation: generation, packer: EDNPacker())) })
    }

    struct Note: Codable, CustomStringConvertible {
        var n: Int
        var description: String { "Note(n: \(n))" }
    }

    struct Echo: Decodable, CustomStringConvertible {
        var uid: String
        var description: String { "Echo(uid: \(uid))" }
    }

    /// What one client made of a replay.
    struct Outcome {
        var events: [Event] = []
        var typed: [String] = []
        var replies: [String] = []
        var states: [String] = []
        var sent: [String] = []
        var repliesFromTape = 0
    }

    final class Box<T: Sendable>: Sendable {
        let items = Mutex<[T]>([])
        func append(_ x: T) { items.withLock { $0.append(x) } }
        var all: [T] { items.withLock { $0 } }
    }

    enum Path: String, CaseIterable { case tree, forcedTape, typedLook }

    /// Runs a client over the replay: typed streams for every pushed id (as `EDNValue` and as
    /// `Note`), a typed request per reply value (as `EDNValue`, then as `Echo`), then
    /// disconnect; everything it made.
    static func run(_ path: Path, packerName: String, ajax: Bool, generation: WireGeneration, opening: [[UInt8]],
                    replyValues: [EDNValue], pushIDs: [String]) async throws -> Outcome {
        let base = packer(packerName)
        let replay = Replay(generation: generation, packer: base, opening: opening, replies: replyValues.flatMap { [$0, $0] })
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk",
                                         options: .init(type: ajax ? .ajax : .ws, csrfToken: "t", packer: path == .tree ? TreeOnlyPacker(base: base) : base),
                                         transport: ReplayTransport(replay: replay, ajax: ajax))
        if path == .forcedTape { await client.readEveryMessageToTape() }
        let events = Box<Event>(), typed = Box<String>(), states = Box<ClientStateChange>()
        var tasks: [Task<Void, Never>] = [Task { for await e in client.events { events.append(e) } },
                                          Task { for await s in client.stateChanges { states.append(s) } }]
        for id in pushIDs {
            let values = client.events(id, as: EDNValue.self)
            tasks.append(Task { for await v in values { typed.append("\(id) \(v)") } })
            let notes = client.events(id, as: Note.self) { typed.append("\(id) error \($0) at \($0.codingPath)") }
            tasks.append(Task { for await v in notes { typed.append("\(id) \(v)") } })
        }
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        var outcome = Outcome()
        for _ in replyValues {
            do { outcome.replies.append("\(try await client.request("test/hello", Note(n: 1), as: EDNValue.self, timeout: .seconds(5)))") } catch {
                outcome.replies.append("error \(error)")
            }
            do { outcome.replies.append("\(try await client.request("test/hello", Note(n: 2), as: Echo.self, timeout: .seconds(5)))") } catch {
                outcome.replies.append("error \(type(of: error)) \(error)")
            }
        }
        // Every opening message came before the replies: all delivered. Over Ajax, the polls
        // run alongside: wait for them to be used up.
        #expect(await eventually { replay.lock.withLock { replay.opening.isEmpty } || !ajax })
        await ClientEngineTests.settle(5)
        outcome.repliesFromTape = await client.repliesDecodedFromTape
        await client.disconnect()
        await client.finish()
        for task in tasks { await task.value }
        outcome.events = events.all
        outcome.typed = typed.all.sorted()   // streams of different ids interleave freely
        // The transitions up to the disconnect (what follows it races the held poll).
        for s in states.all {
            outcome.states.append("\(s.new.type) \(s.new.isOpen) \(s.new.uid.map(\.description) ?? "-") \(s.new.handshakeData.map(\.description) ?? "-") \(s.new.firstOpen) \(s.new.everOpened)")
            if s.old.isOpen && !s.new.isOpen { break }
        }
        outcome.sent = replay.lock.withLock { replay.sent }.filter { !$0.contains("test/hello") }   // callback ids differ
        return outcome
    }

    static let recordings = ["sente-1.21.0/ws-edn.txt", "sente-1.21.0/browser-ws.txt", "sente-1.21.0/jvm-client-ws.txt",
                             "sente-1.14.0-RC2/ws-edn-v1.txt", "sente-1.14.0-RC2/browser-ws-v1.txt"]

    /// Every S>C frame of every WebSocket recording (EDN as recorded; Transit JSON re-packed),
    /// over WebSocket and as Ajax polls, with the recorded replies as the answers to typed
    /// requests: the tree path, the forced tape path and the unforced one (typed ids looked
    /// for) make the same events, typed values, payload errors, replies, states and pongs.
    @Test(.timeLimit(.minutes(2)), arguments: ["edn", "transit-json"], [false, true])
    func tapeAndTreePathsAgreeOnRecordedServerFrames(packerName: String, ajax: Bool) async throws {
        try #require(Transcripts.available, "the transcripts (shared/conformance/transcripts) are missing")
        let packer = Self.packer(packerName)
        var onTape = 0, repliesFromTape = 0
        for file in Self.recordings {
            let (generation, frames) = try Self.recording(file)
            var opening: [[UInt8]] = [], replyValues: [EDNValue] = [], pushIDs: Set<String> = []
            for (bytes, frame) in frames {
                if case .string = frame.callbackID { replyValues.append(frame.value) }
                if frame.callbackID == nil, let batch = frame.value.sequenceElements {
                    for item in batch { if let e = Event(validating: item), !e.isReserved { pushIDs.insert(e.id.text) } }
                }
                if packerName == "edn" && !ajax {
                    opening.append(bytes)
                } else if let repacked = try? Framing.pack(frame.value, callbackID: frame.callbackID, generation: generation, packer: packer) {
                    opening.append(repacked)
                }
            }
            try #require(!pushIDs.isEmpty && !replyValues.isEmpty, "\(file)")
            var outcomes: [Path: Outcome] = [:]
            for path in Path.allCases {
                outcomes[path] = try await Self.run(path, packerName: packerName, ajax: ajax, generation: generation, opening: opening,
                                                    replyValues: replyValues, pushIDs: pushIDs.sorted())
            }
            let tree = try #require(outcomes[.tree])
            #expect(tree.repliesFromTape == 0 && !tree.events.contains { $0.dataIsOnTape })
            for path in [Path.forcedTape, .typedLook] {
                let tape = try #require(outcomes[path])
                let label = "\(file) \(packerName) \(ajax ? "ajax" : "ws") \(path)"
                // Pushes of typed ids kept their data on the tape, and the typed streams
                // decoded them without building it (checked before anything reads `data`).
                let kept = tape.events.filter(\.dataIsOnTape)
                #expect(!kept.isEmpty, "\(label)")
                #expect(kept.allSatisfy { !$0.tapeDataWasMaterialized }, "\(label)")
                onTape += kept.count
                #expect(tape.repliesFromTape == 2 * replyValues.count, "\(label)")
                repliesFromTape += tape.repliesFromTape
                #expect(tape.events == tree.events, "\(label)")
                #expect(tape.events.map(\.description) == tree.events.map(\.description), "\(label)")
                #expect(tape.typed == tree.typed, "\(label)")
                #expect(tape.replies == tree.replies, "\(label)")
                #expect(tape.states == tree.states, "\(label)")
                #expect(tape.sent == tree.sent, "\(label)")
            }
            #expect(tree.events.count >= 2 && tree.typed.count >= 2, "\(file)")
            #expect(tree.replies.contains { $0.hasPrefix("error EventPayloadError") } || replyValues.allSatisfy { $0[.kw("uid")] != nil }, "\(file)")
        }
        #expect(onTape > 10 && repliesFromTape > 10)
    }

    // MARK: against our own server, in memory

    struct HistoryQuery: Codable, Sendable { var room: String; var limit: Int }
    struct ChatMessage: Codable, Equatable, Sendable { var author: String; var text: String; var tags: [Keyword] }
    struct History: Codable, Equatable, Sendable { var room: String; var messages: [ChatMessage] }
    static let message = ChatMessage(author: "ann", text: "hi ✓", tags: [Keyword("chat/new")])

    /// A typed reply and a typed push decoded from the tape with no tree built, in each
    /// transport, generation and packer; a shape mismatch is still an `EventPayloadError`
    /// (the request's, with its path; the stream's, to `onPayloadError`); an untyped push in
    /// the same connection is delivered as a value; the tree path gives the same.
    @Test(.timeLimit(.minutes(2)), arguments: ["edn", "transit-json"], [ClientType.ws, .ajax])
    func typedReplyAndPushDecodeWithNoTree(packerName: String, type: ClientType) async throws {
        for generation in WireGeneration.allCases {
            for tape in [true, false] {
                let label = "\(packerName) \(type) \(generation) \(tape ? "tape" : "tree")"
                let packer = Self.packer(packerName)
                let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, csrf: .token("tok"),
                                                                    wire: generation == .v1 ? .v1 : .auto, packer: packer))
                let stop = EventRouter().onRequest("chat/history", as: HistoryQuery.self) { _, query in
                    History(room: query.room, messages: Array(repeating: Self.message, count: query.limit))
                }.start(on: server)
                let client = ChannelSocketClient(url: "http://127.0.0.1/chsk",
                                                 options: .init(type: type, protocolGeneration: generation == .v1 ? .v1 : .v2, csrfToken: "tok",
                                                                params: ["uid": "ann"], packer: tape ? packer : TreeOnlyPacker(base: packer)),
                                                 transport: InMemoryTransport(server: server))
                let events = Box<Event>(), mismatches = Box<EventPayloadError>()
                let main = Task { for await e in client.events { events.append(e) } }
                let messages = client.events("chat/message", as: ChatMessage.self) { mismatches.append($0) }
                await client.start()
                #expect(await eventually { await client.currentState.isOpen }, "\(label)")

                // A typed reply.
                let history = try await client.request("chat/history", HistoryQuery(room: "lobby", limit: 2), as: History.self, timeout: .seconds(5))
                #expect(history == History(room: "lobby", messages: [Self.message, Self.message]), "\(label)")
                #expect(await client.repliesDecodedFromTape == (tape ? 1 : 0), "\(label)")
                // A reply of the wrong shape: the same error as the tree path's.
                do {
                    _ = try await client.request("chat/history", HistoryQuery(room: "lobby", limit: 1), as: [String: Int].self, timeout: .seconds(5))
                    Issue.record("decoded a mismatching reply: \(label)")
                } catch let error as EventPayloadError {
                    #expect(error.codingPath == ["room"] && error.eventID == Keyword("chat/history"), "\(label)")
                }
                #expect(await client.repliesDecodedFromTape == (tape ? 2 : 0), "\(label)")

                // A typed push, an untyped one, a mismatching one, a typed one again.
                try await server.send(Event(typed: "chat/message", Self.message), to: "ann", flush: true)
                try await server.send(Event("chat/other", [.kw("x"): 1]), to: "ann", flush: true)
                try await server.send(Event("chat/message", [.kw("author"): 1]), to: "ann", flush: true)
                try await server.send(Event(typed: "chat/message", Self.message), to: "ann", flush: true)
                var got: [ChatMessage] = []
                for await m in messages {
                    got.append(m)
                    if got.count == 2 { break }
                }
                #expect(got == [Self.message, Self.message], "\(label)")
                #expect(mismatches.all.map(\.codingPath) == [["author"]], "\(label)")
                let pushes = events.all.filter { $0.id != Reserved.handshake }
                #expect(pushes.count == 4, "\(label)")
                // v1 wraps pushes as [:chsk/recv [id data]]: the wrapper keeps the tape.
                #expect(pushes.map { $0.id == Reserved.recv } == Array(repeating: generation == .v1, count: 4), "\(label)")
                #expect(pushes.map(\.dataIsOnTape) == (tape ? [true, false, true, true] : [false, false, false, false]), "\(label)")
                #expect(pushes.allSatisfy { !$0.tapeDataWasMaterialized }, "decoding built a tree: \(label)")
                let unwrapped = pushes.map { $0.id == Reserved.recv ? Event(validating: $0.data ?? .null) : $0 }
                #expect(unwrapped.map { $0?.id.text } == ["chat/message", "chat/other", "chat/message", "chat/message"], "\(label)")
                #expect(unwrapped[0]?.data == (try EDNEncoder().encode(Self.message)), "\(label)")
                await client.disconnect()
                await client.finish()
                await main.value
                stop.stop()
                await server.shutdown()
            }
        }
    }

    /// With no typed stream open and no typed request pending, nothing is read to a tape; a
    /// typed stream only takes the messages that carry its id.
    @Test func untypedTrafficStaysOnTheTreePath() async throws {
        let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, csrf: .token("tok")))
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(type: .ws, csrfToken: "tok", params: ["uid": "ann"]),
                                         transport: InMemoryTransport(server: server))
        let events = Box<Event>()
        let main = Task { for await e in client.events { events.append(e) } }
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        try await server.send(Event("chat/message", [.kw("n"): 1]), to: "ann", flush: true)
        #expect(await eventually { events.all.count == 2 })
        let stream = client.events("chat/message", as: EDNValue.self)
        try await server.send(Event("chat/other", [.kw("n"): 2]), to: "ann", flush: true)
        try await server.send(Event("chat/message", [.kw("n"): 3]), to: "ann", flush: true)
        var it = stream.makeAsyncIterator()
        #expect(await it.next() == [.kw("n"): 3])
        #expect(await eventually { events.all.count == 4 })
        #expect(events.all.map(\.dataIsOnTape) == [false, false, false, true])
        await client.disconnect()
        await client.finish()
        await main.value
        await server.shutdown()
    }
}
