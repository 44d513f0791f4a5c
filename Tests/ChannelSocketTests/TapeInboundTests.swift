import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import Testing
import TestSupport
import Transit

/// The engine's tape path (typed handlers registered): inbound messages read straight from the
/// wire bytes into the byte decoders' tape, the data of typed events decoded from it with no
/// `EDNValue` tree. It must make exactly what the tree path makes.
@Suite struct TapeInboundTests {
    static let packerNames = ["edn", "transit-json", "transit-json-verbose", "transit-msgpack"]

    static func packer(_ name: String) -> any Packer {
        switch name {
        case "edn": EDNPacker()
        case "transit-json": TransitPacker(format: .json)
        case "transit-json-verbose": TransitPacker(format: .jsonVerbose)
        default: TransitPacker(format: .msgpack)
        }
    }

    /// The id whose data stays on the tape in the comparisons.
    static let typedID = "t/ev"

    /// Two servers with one packer: `tape` reads inbound messages to tapes (a router with a
    /// typed handler for `t/ev` runs on it), `tree` does not.
    struct Pair {
        let tape: ChannelSocketServer
        let tree: ChannelSocketServer
        let stop: StopHandle

        init(_ packer: any Packer) throws {
            let options = ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok"), packer: packer)
            tape = try ChannelSocketServer(options: options)
            tree = try ChannelSocketServer(options: options)
            stop = EventRouter().on(TapeInboundTests.typedID, as: EDNValue.self) { _, _ in }.start(on: tape)
        }

        /// Compares both paths on one message in both generations; returns how many events
        /// kept their data on the tape.
        func compare(_ message: [UInt8], _ label: @autoclosure () -> String) -> Int {
            var onTape = 0
            for generation in WireGeneration.allCases {
                let a = tape.inboundOutcome(message, generation: generation, forcingTape: true)
                let b = tree.inboundOutcome(message, generation: generation)
                #expect(a == b, "\(generation) \(label())")
                // Unforced, the look for a typed id picks the path: the same outcome.
                #expect(tape.inboundOutcome(message, generation: generation) == b, "\(generation) \(label())")
                guard case .event(let event, let origin, _) = a, case .event(let treeEvent, _, _) = b else { continue }
                // Untyped events (and engine events) never keep a tape.
                if event.id != Keyword(TapeInboundTests.typedID) || origin != .client || event.data == nil {
                    #expect(!event.dataIsOnTape, "\(generation) \(label())")
                    continue
                }
                // `==` above built the data from the tape: decode from a fresh outcome's.
                guard case .event(let fresh, _, _) = tape.inboundOutcome(message, generation: generation, forcingTape: true) else { continue }
                #expect(fresh.dataIsOnTape && !fresh.tapeDataWasMaterialized, "\(generation) \(label())")
                onTape += 1
                TapeInboundTests.expectSameDecoding(fresh, treeEvent, "\(generation) \(label())")
                #expect(!fresh.tapeDataWasMaterialized, "decoding built a tree: \(generation) \(label())")
            }
            return onTape
        }
    }

    struct Point: Codable, Equatable {
        var x: Int
        var y: Double?
    }

    /// The tape event and the tree event decode alike (values, or errors with their paths).
    static func expectSameDecoding(_ tape: Event, _ tree: Event, _ label: String) {
        func outcome<T: Decodable & Equatable>(_ e: Event, _ type: T.Type) -> String {
            do throws(EventPayloadError) { return "ok \(try e.decode(type))" } catch { return "error \(error) path \(error.codingPath)" }
        }
        #expect(outcome(tape, [String: Int].self) == outcome(tree, [String: Int].self), "\(label)")
        #expect(outcome(tape, [Int].self) == outcome(tree, [Int].self), "\(label)")
        #expect(outcome(tape, String.self) == outcome(tree, String.self), "\(label)")
        #expect(outcome(tape, Point.self) == outcome(tree, Point.self), "\(label)")
        #expect(outcome(tape, [Point?].self) == outcome(tree, [Point?].self), "\(label)")
        #expect(outcome(tape, Keyword?.self) == outcome(tree, Keyword?.self), "\(label)")
    }

    @Test func tapeAndTreePathsAgreeOnTheEDNCorpus() throws {
        let inputs = EDNCorpus.inputs
        try #require(inputs.count > 100, "the EDN corpus (shared/conformance/edn-corpus) is missing")
        let pair = try Pair(EDNPacker())
        defer { pair.stop.stop() }
        #expect(pair.tape.readsInboundToTape && !pair.tree.readsInboundToTape)
        var onTape = 0
        for input in inputs {
            for message in ["[[:t/ev \(input)] \"cb1\"]", "[[:t/ev \(input)]]", "[[:t/ev \(input)] nil]", input, "[\(input) 7]",
                            "-[:t/ev \(input)]", "+[[:t/ev \(input)] 7]", "+[[:t/ev \(input)]]", "-\(input)", "+\(input)",
                            "[[:t/ev \(input)] \(input)]", "[[:t/ev \(input)] 1] trailing ) ignored"] {
                onTape += pair.compare(Array(message.utf8), String(message.prefix(200)))
            }
        }
        #expect(onTape > 500)
    }

    /// The Transit exemplars: as sent (each a whole message), and their values sent as a typed
    /// event's data in each framing by each Transit packer (read cache in use).
    @Test(arguments: ["transit-json", "transit-json-verbose", "transit-msgpack"])
    func tapeAndTreePathsAgreeOnTheTransitExemplars(_ packerName: String) throws {
        let root = Checkout.shared.appendingPathComponent("conformance/transit-exemplars/0.8/simple").path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasSuffix(".edn") }.map { String($0.dropLast(4)) }
        try #require(names.count > 50, "the Transit exemplars (shared/conformance/transit-exemplars) are missing")
        let packer = Self.packer(packerName)
        let pair = try Pair(packer)
        defer { pair.stop.stop() }
        let ext = switch packerName { case "transit-json": ".json"; case "transit-json-verbose": ".verbose.json"; default: ".mp" }
        var onTape = 0
        for name in names.sorted() {
            guard let raw = FileManager.default.contents(atPath: root + "/" + name + ext).map({ [UInt8]($0) }) else { continue }
            _ = pair.compare(raw, "\(name)\(ext)")
            if !packer.isBinary {
                _ = pair.compare([UInt8(ascii: "-")] + raw, "-\(name)\(ext)")
                _ = pair.compare([UInt8(ascii: "+")] + raw, "+\(name)\(ext)")
            }
            guard let value = try? packer.unpack(raw) else { continue }
            let event: EDNValue = [.kw(Self.typedID), value]
            for (callbackID, generation) in [(EDNValue?.none, WireGeneration.v2), ("cb1", .v2), (nil, .v1), (7, .v1)] {
                let message = try Framing.pack(event, callbackID: callbackID, generation: generation, packer: packer, alwaysWrap: packer.isBinary)
                onTape += pair.compare(message, "\(name) as data, \(generation) cb \(String(describing: callbackID))")
            }
        }
        #expect(onTape > 100)
    }

    /// The C>S frames and POSTed `ppstr`s of the recorded Sente sessions (EDN), with
    /// `:test/hello` typed as well.
    @Test func tapeAndTreePathsAgreeOnTranscriptFrames() throws {
        try #require(Transcripts.available, "the transcripts (shared/conformance/transcripts) are missing")
        let options = ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok"))
        let tape = try ChannelSocketServer(options: options), tree = try ChannelSocketServer(options: options)
        let stop = EventRouter().on("test/hello", as: EDNValue.self) { _, _ in }.on("test/hello2", as: EDNValue.self) { _, _ in }.start(on: tape)
        defer { stop.stop() }
        var messages: [String] = []
        let files = try FileManager.default.subpathsOfDirectory(atPath: Transcripts.root.path).filter { $0.hasSuffix(".txt") }
        for file in files {
            for raw in try Transcripts.lines(file) {
                guard let line = Transcripts.parse(raw), line.direction == "C>S" else { continue }
                if line.payload.hasPrefix("[txt] ") {
                    messages.append(String(line.payload.dropFirst(6)))
                } else if let r = line.payload.range(of: "--data-urlencode ppstr=") {
                    let rest = line.payload[r.upperBound...]
                    messages.append(String(rest[..<(rest.range(of: " --")?.lowerBound ?? rest.endIndex)]))
                } else if let r = line.payload.range(of: "body='") {
                    let body = line.payload[r.upperBound...].prefix { $0 != "'" }
                    if let ppstr = FormDecoding.decode(String(body))["ppstr"] { messages.append(ppstr) }
                }
            }
        }
        #expect(messages.count > 20)
        var typed = 0
        for message in messages {
            for generation in [WireGeneration.v1, .v2] {
                let a = tape.inboundOutcome(Array(message.utf8), generation: generation, forcingTape: true)
                #expect(a == tree.inboundOutcome(Array(message.utf8), generation: generation), "\(generation) \(message)")
                // Without forcing: the look for a typed id picks the path; the same outcome.
                #expect(tape.inboundOutcome(Array(message.utf8), generation: generation) == a, "\(generation) \(message)")
                if case .event(let e, _, _) = a, e.dataIsOnTape { typed += 1 }
            }
        }
        #expect(typed > 5)
    }

    /// Nesting and number bounds refuse hostile input on the tape path as on the tree path;
    /// a value at the depth bound is accepted in every framing, one level deeper refused.
    @Test(arguments: packerNames)
    func boundsRefuseHostileInputOnTheTapePath(_ packerName: String) throws {
        let packer = Self.packer(packerName)
        let pair = try Pair(packer)
        defer { pair.stop.stop() }
        let bound = packerName == "edn" ? EDNReader.Options.defaultMaxDepth : TransitReader.Options.defaultMaxDepth
        func nested(_ levels: Int) -> EDNValue {
            var v: EDNValue = [.kw("deep")]
            for _ in 1..<levels { v = [v] }
            return v
        }
        // The event is [:t/ev data]: data at bound - 1 levels is the value at the bound.
        for (levels, accepted) in [(bound - 1, true), (bound, false)] {
            let event: EDNValue = [.kw(Self.typedID), nested(levels)]
            var framings: [(String, [UInt8], WireGeneration)] = [
                ("v1 +[value]", try Framing.pack(event, generation: .v1, packer: packer, alwaysWrap: true), .v1),
                ("v1 +[value cb]", try Framing.pack(event, callbackID: "cb1", generation: .v1, packer: packer), .v1),
                ("v2 [value nil]", try Framing.pack(event, generation: .v2, packer: packer), .v2),
                ("v2 [value cb]", try Framing.pack(event, callbackID: "cb1", generation: .v2, packer: packer), .v2),
            ]
            if !packer.isBinary { framings.append(("v1 -value", try Framing.pack(event, generation: .v1, packer: packer), .v1)) }
            for (name, bytes, generation) in framings {
                let outcome = pair.tape.inboundOutcome(bytes, generation: generation, forcingTape: true)
                #expect(outcome == pair.tree.inboundOutcome(bytes, generation: generation), "\(name) \(levels)")
                var typed = false
                if case .event(let e, .client, _) = outcome, e.id == Keyword(Self.typedID) { typed = e.dataIsOnTape }
                #expect(typed == accepted, "\(packerName) \(name), data \(levels) levels")
            }
        }
        // Crafted chains and long numbers: typed errors (no crash), alike on both paths.
        let hostile: [[UInt8]]
        switch packerName {
        case "edn":
            hostile = [Array(("[[:t/ev " + String(repeating: "[", count: 100_000)).utf8),
                       Array(("[[:t/ev " + String(repeating: "{:a ", count: 100_000)).utf8),
                       Array(("[[:t/ev " + String(repeating: "9", count: 5000) + "] nil]").utf8),
                       Array(("-[:t/ev " + String(repeating: "(", count: 100_000)).utf8),
                       Array(("+[[:t/ev " + String(repeating: "1", count: 5000) + "N]]").utf8)]
        case "transit-msgpack":
            hostile = [[0x92, 0x92, 0xA6] + Array("~:t/ev".utf8) + [UInt8](repeating: 0x91, count: 100_000),
                       [0x92, 0x92, 0xA6] + Array("~:t/ev".utf8) + [0xDA, 0x13, 0x8A] + Array(("~n" + String(repeating: "7", count: 5000)).utf8) + [0xC0]]
        default:
            hostile = [Array(("[[\"~:t/ev\"," + String(repeating: "[", count: 100_000)).utf8),
                       Array(("[[\"~:t/ev\"," + String(repeating: "{\"a\":", count: 100_000)).utf8),
                       Array(("[[\"~:t/ev\",\"~n" + String(repeating: "9", count: 5000) + "\"],null]").utf8),
                       Array(("[[\"~:t/ev\"," + String(repeating: "9", count: 5000) + "],null]").utf8)]
        }
        for bytes in hostile {
            for generation in WireGeneration.allCases {
                let outcome = pair.tape.inboundOutcome(bytes, generation: generation, forcingTape: true)
                #expect(outcome == pair.tree.inboundOutcome(bytes, generation: generation), "\(packerName) \(generation) \(bytes.prefix(20))")
                if case .event(let e, .client, _) = outcome, e.id == Keyword(Self.typedID) {
                    Issue.record("hostile input accepted as a typed event: \(packerName) \(generation) \(bytes.prefix(20))")
                }
            }
        }
    }

    // MARK: through a running engine

    struct SendMessage: Codable, Equatable, Sendable {
        var room: String
        var text: String
        var attachments: [Attachment]
    }

    struct Attachment: Codable, Equatable, Sendable {
        var name: String
        var size: Int
    }

    final class Box<T: Sendable>: Sendable {
        let items = Mutex<[T]>([])
        func append(_ x: T) { items.withLock { $0.append(x) } }
        var all: [T] { items.withLock { $0 } }
    }

    struct Seen: Sendable, Equatable {
        var id: String
        var onTape: Bool
        var materialized: Bool
    }

    /// A typed handler's payload comes through the tape path (no tree built for the data);
    /// an untyped handler's event has its data as a value; a mismatch is an
    /// `EventPayloadError` with its path and the event goes to the fallback, whose `data`
    /// is the value sent.
    @Test(.timeLimit(.minutes(1)), arguments: [ClientType.ws, .ajax], ["edn", "transit-json"])
    func typedHandlerDecodesFromTheTape(_ type: ClientType, _ packerName: String) async throws {
        let packer = Self.packer(packerName)
        let server = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { $0.params["uid"].map(EDNValue.string) },
                                                                                 csrf: .token("tok"), packer: packer))
        let seen = Box<Seen>(), payloads = Box<SendMessage>(), errors = Box<EventPayloadError>(), fallback = Box<Event>()
        let stop = EventRouter()
            .on("chat/send", as: SendMessage.self) { message, payload in
                seen.append(Seen(id: "chat/send", onTape: message.event.dataIsOnTape, materialized: message.event.tapeDataWasMaterialized))
                payloads.append(payload)
            }
            .onRequest("chat/size", as: Attachment.self) { message, attachment in
                seen.append(Seen(id: "chat/size", onTape: message.event.dataIsOnTape, materialized: message.event.tapeDataWasMaterialized))
                return attachment.size
            }
            .on("chat/plain") { message in
                seen.append(Seen(id: "chat/plain", onTape: message.event.dataIsOnTape, materialized: false))
                message.reply(message.data ?? .null)
            }
            .onPayloadError { _, error in errors.append(error) }
            .otherwise { message in
                if message.id == Keyword("chat/send") { fallback.append(message.event) }
                if message.wantsReply { message.reply(.kw("my-app/unhandled")) }
            }
            .logging { _, _ in }
            .start(on: server)
        defer { stop.stop() }
        #expect(server.readsInboundToTape)
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(type: type, csrfToken: "tok", params: ["uid": "ann"], packer: packer),
                                         transport: InMemoryTransport(server: server))
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })

        let message = SendMessage(room: "lobby", text: "hi", attachments: [Attachment(name: "a.png", size: 12), Attachment(name: "b.png", size: 34)])
        try await client.send("chat/send", message)
        #expect(await eventually { payloads.all == [message] })
        #expect(try await client.request("chat/size", Attachment(name: "c", size: 56), as: Int.self, timeout: .seconds(5)) == 56)
        let plain: EDNValue = [.kw("a"): [1, 2, .set([3])]]
        #expect(try await client.request(Event("chat/plain", plain), timeout: .seconds(5)) == plain)
        #expect(seen.all == [Seen(id: "chat/send", onTape: true, materialized: false),
                             Seen(id: "chat/size", onTape: true, materialized: false),
                             Seen(id: "chat/plain", onTape: false, materialized: false)])

        // A mismatch deep in the payload: the error names the path, the fallback gets the
        // event (its data as sent, built from the tape on demand).
        let bad: EDNValue = [.kw("room"): "lobby", .kw("text"): "x", .kw("attachments"): [[.kw("name"): "a", .kw("size"): "big"]]]
        #expect(try await client.request(Event("chat/send", bad), timeout: .seconds(5)) == .kw("my-app/unhandled"))
        #expect(await eventually { errors.all.count == 1 && fallback.all.count == 1 })
        let error = try #require(errors.all.first)
        #expect(error.codingPath == ["attachments", "0", "size"])
        #expect(error.pathDescription == "attachments[0].size")
        // The same error as decoding the value (the tree) reports.
        do throws(EventPayloadError) { _ = try Event("chat/send", bad).decode(SendMessage.self) } catch {
            #expect(error.description == errors.all.first?.description)
        }
        let event = try #require(fallback.all.first)
        #expect(event.dataIsOnTape)
        #expect(event.data == bad)
        #expect(event.tapeDataWasMaterialized)
        #expect(event == Event("chat/send", bad))
        #expect(Set([event, Event("chat/send", bad)]).count == 1)
        #expect(payloads.all == [message])
        await client.disconnect()
    }

    /// No typed handler, or a router stopped: the tree path. A server whose packer has no tape
    /// reader stays on the tree path with typed handlers (and still decodes them).
    @Test func tapePathOnlyWhileTypedHandlersRun() throws {
        let server = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok")))
        let untyped = EventRouter().on("a/b") { _ in }.start(on: server)
        #expect(!server.readsInboundToTape)
        untyped.stop()
        let server2 = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok")))
        let typed = EventRouter().on("a/b", as: Int.self) { _, _ in }.start(on: server2)
        #expect(server2.readsInboundToTape)
        guard case .event(let e, .client, let cb) = server2.inboundOutcome(Array(#"[[:a/b 1] "cb"]"#.utf8), generation: .v2) else {
            Issue.record("no event")
            return
        }
        #expect(cb == "cb")
        #expect(e.dataIsOnTape)
        #expect(try e.decode(Int.self) == 1)
        typed.stop()
        #expect(!server2.readsInboundToTape)
        guard case .event(let e2, _, _) = server2.inboundOutcome(Array(#"[[:a/b 1] "cb"]"#.utf8), generation: .v2) else { return }
        #expect(!e2.dataIsOnTape)

        // Transit JSON: an id written with an escaped `/` is not spotted in the message's
        // first bytes; that event goes through the tree path and decodes alike.
        let server4 = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok"), packer: TransitPacker(format: .json)))
        let typed4 = EventRouter().on("a/b", as: Int.self) { _, _ in }.start(on: server4)
        defer { typed4.stop() }
        for (text, onTape) in [(#"[["~:a/b",1],"cb"]"#, true), (#"[["~:a\/b",1],"cb"]"#, false)] {
            guard case .event(let e, .client, let cb) = server4.inboundOutcome(Array(text.utf8), generation: .v2) else {
                Issue.record("no event: \(text)")
                continue
            }
            #expect(e.id == Keyword("a/b") && cb == "cb", "\(text)")
            #expect(e.dataIsOnTape == onTape, "\(text)")
            #expect(try e.decode(Int.self) == 1, "\(text)")
        }

        let server3 = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok"), packer: FramingTests.PlainEDN()))
        let typed3 = EventRouter().on("a/b", as: Int.self) { _, _ in }.start(on: server3)
        defer { typed3.stop() }
        #expect(!server3.readsInboundToTape)
    }

    /// Editing a tape event's data replaces it; copies share the built value.
    @Test func tapeEventDataIsAValueToItsUsers() throws {
        let server = try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { _ in "u" }, csrf: .token("tok")))
        let stop = EventRouter().on("a/b", as: EDNValue.self) { _, _ in }.start(on: server)
        defer { stop.stop() }
        guard case .event(var e, _, _) = server.inboundOutcome(Array("[[:a/b {:x [1 2]}]]".utf8), generation: .v2) else {
            Issue.record("no event")
            return
        }
        let copy = e
        #expect(e.description == "[:a/b {:x [1 2]}]")
        #expect(copy.tapeDataWasMaterialized)
        e.data = [.kw("x"): [1, 2], .kw("y"): 3]
        #expect(!e.dataIsOnTape)
        #expect(e.data == [.kw("x"): [1, 2], .kw("y"): 3])
        #expect(copy.data == [.kw("x"): [1, 2]])
        #expect(copy.hashValue == Event("a/b", [.kw("x"): [1, 2]]).hashValue)
    }
}
