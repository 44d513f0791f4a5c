// typed-bench: typed decoding of one realistic Sente event payload (a chat message, ~1 KB)
// into a Swift `Decodable` struct, side by side in one run:
//
//   Foundation JSONDecoder   plain JSON of the same data (the baseline)
//   EDN bytes → T            EDNDecoder().decode(T.self, from: bytes)      (byte-direct, tape)
//   EDN tree → T             EDNReader.read(bytes) then EDNDecoder().decode(T.self, from: value)
//   Transit JSON bytes → T   TransitDecoder(format: .json).decode(T.self, from: bytes)
//   Transit JSON tree → T    TransitReader.read(bytes) then EDNDecoder().decode(T.self, from: value)
//   Transit JSON-verbose / MessagePack bytes → T
//   engine inbound …         WebSocketConnection.receive of the event framed as a client sends
//                            it ([[:chat/send data] "cb"]), to an inline handler that decodes
//                            the typed payload with message.decode(T.self): with no typed
//                            router (the tree path: the engine reads an EDNValue tree) and with
//                            a typed EventRouter started (the tape path: the engine reads the
//                            bytes into a tape and the payload is decoded from it), EDN and
//                            Transit JSON; and an untyped event (:chat/plain, its handler
//                            reads message.data) on both servers.
//   client push …            a ChannelSocketClient's WebSocket receiving the push
//                            [[[:chat/message data]] nil] and an events("chat/message", as: T)
//                            stream yielding the decoded T (its `events` stream drained too):
//                            the tree path (a packer with no tape reader: the client reads an
//                            EDNValue tree, as before) and the tape path (EDN / Transit JSON:
//                            the message read to a tape, T decoded from it); and an untyped
//                            push ([:chat/plain data], the `events` consumer reads `data`) with
//                            the tree-only packer, with the real packer, and with a typed
//                            stream open for another id (the look for its id in each message).
//   client reply …           request("chat/history", q, as: T) answered at once by an
//                            in-process socket with [data cb]: tree path vs tape path.
//                            (Client rows: 50 messages pushed back to back, or 50 requests
//                            in flight, per timed call; the time shown is per message.)
//
//   typed-bench [--time S] [--runs N] [--only TEXT]   (--only: the rows whose name contains TEXT, and the baseline unless TEXT starts with =)
//
// Each row: warmed up, then --runs timed runs of at least --time seconds each; the median run
// is reported as µs per decode and MB/s of input; "× JSONDecoder" is JSONDecoder's time
// divided by the row's (above 1 = faster than JSONDecoder).

import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import Transit

struct Attachment: Codable, Equatable, Sendable {
    var name: String
    var mime: String
    var size: Int
}

struct Reaction: Codable, Equatable, Sendable {
    var emoji: String
    var users: [String]
}

/// The event's data. `When` is `Instant` for EDN/Transit (`#inst` / `~m`) and `Date` for
/// JSONDecoder (a number, its default date strategy).
struct ChatMessage<When: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    var id: Int64
    var room: String
    var author: String
    var text: String
    var sentAt: When
    var edited: Bool
    var score: Double
    var tags: [String]
    var mentions: [Int]
    var attachments: [Attachment]
    var reactions: [Reaction]
    var replyTo: Int64?
}

func message<W>(_ when: W) -> ChatMessage<W> {
    ChatMessage(
        id: 982_451_653, room: "lobby/general", author: "ann@example.com",
        text: "Shipping the typed events today: handlers take Codable payloads, replies are encoded for you, and a bad payload names its path. Review by Friday? ünïcødé ✓",
        sentAt: when, edited: false, score: 0.8125,
        tags: ["release", "swift", "sente", "typed-events", "codable"],
        mentions: [17, 42, 1_024, 65_536, 7],
        attachments: [
            Attachment(name: "design-notes.md", mime: "text/markdown", size: 18_432),
            Attachment(name: "benchmark-results.csv", mime: "text/csv", size: 2_048),
            Attachment(name: "screenshot-2026-12-05.png", mime: "image/png", size: 734_003),
            Attachment(name: "flamegraph-typed-decode.svg", mime: "image/svg+xml", size: 96_211),
        ],
        reactions: [
            Reaction(emoji: "+1", users: ["bob", "carol", "dave"]),
            Reaction(emoji: "rocket", users: ["erin"]),
            Reaction(emoji: "eyes", users: ["frank", "grace", "heidi", "ivan"]),
            Reaction(emoji: "tada", users: ["judy", "mallory", "niaj", "olivia", "peggy"]),
        ],
        replyTo: 982_451_601)
}

var timeLimit = 0.5
var runs = 5
var only: String?
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--time": timeLimit = Double(args.removeFirst()) ?? timeLimit
    case "--runs": runs = Int(args.removeFirst()) ?? runs
    case "--only": only = args.removeFirst()
    default:
        FileHandle.standardError.write(Data("usage: typed-bench [--time S] [--runs N] [--only TEXT]\n".utf8))
        exit(2)
    }
}

let instant = Instant(millisecondsSinceEpoch: 1_796_000_000_123)
let date = Date(timeIntervalSince1970: 1_796_000_000.123)
let ednValue = message(instant)
let jsonValue = message(date)

let jsonBytes = try Array(Foundation.JSONEncoder().encode(jsonValue))
let ednBytes = try EDNEncoder().encodeBytes(ednValue)
let transitJSON = try TransitEncoder(format: .json).encode(ednValue)
let transitVerbose = try TransitEncoder(format: .jsonVerbose).encode(ednValue)
let transitMsgpack = try TransitEncoder(format: .msgpack).encode(ednValue)

// Every path decodes the same value.
let jsonData = Data(jsonBytes)
func check(_ ok: Bool, _ what: String) {
    if !ok { FileHandle.standardError.write(Data("\(what) decoded another value\n".utf8)); exit(1) }
}
check(try Foundation.JSONDecoder().decode(ChatMessage<Date>.self, from: jsonData) == jsonValue, "JSONDecoder")
check(try EDNDecoder().decode(ChatMessage<Instant>.self, from: ednBytes) == ednValue, "EDN")
check(try TransitDecoder(format: .json).decode(ChatMessage<Instant>.self, from: transitJSON) == ednValue, "Transit JSON")
check(try TransitDecoder(format: .jsonVerbose).decode(ChatMessage<Instant>.self, from: transitVerbose) == ednValue, "Transit JSON-verbose")
check(try TransitDecoder(format: .msgpack).decode(ChatMessage<Instant>.self, from: transitMsgpack) == ednValue, "Transit MessagePack")

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Median seconds per call of `body` over `runs` runs.
@MainActor func measure(_ name: String, _ body: () throws -> Void) rethrows -> Double {
    if let only {
        let text = only.hasPrefix("=") ? String(only.dropFirst()) : only
        if !name.contains(text), !name.hasPrefix("Foundation") || only.hasPrefix("=") { return .nan }
    }
    // Warm-up.
    let warm = now()
    while now() - warm < timeLimit / 2 { try body() }
    var samples: [Double] = []
    for _ in 0..<runs {
        var n = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            for _ in 0..<100 { try body() }
            n += 100
            elapsed = now() - start
        } while elapsed < timeLimit
        samples.append(elapsed / Double(n))
    }
    samples.sort()
    return samples[samples.count / 2]
}

struct Row {
    let name: String
    let bytes: Int
    let seconds: Double
}

var rows: [Row] = []
let foundation = Foundation.JSONDecoder()
rows.append(Row(name: "Foundation JSONDecoder (plain JSON)", bytes: jsonBytes.count,
                seconds: try measure("Foundation JSONDecoder (plain JSON)") { blackHole(try foundation.decode(ChatMessage<Date>.self, from: jsonData)) }))
let edn = EDNDecoder()
rows.append(Row(name: "EDN bytes → T (EDNDecoder)", bytes: ednBytes.count,
                seconds: try measure("EDN bytes → T (EDNDecoder)") { blackHole(try edn.decode(ChatMessage<Instant>.self, from: ednBytes)) }))
rows.append(Row(name: "EDN tree → T (EDNReader + EDNDecoder)", bytes: ednBytes.count,
                seconds: try measure("EDN tree → T (EDNReader + EDNDecoder)") { blackHole(try edn.decode(ChatMessage<Instant>.self, from: try EDNReader.read(ednBytes))) }))
let tj = TransitDecoder(format: .json)
rows.append(Row(name: "Transit JSON bytes → T (TransitDecoder)", bytes: transitJSON.count,
                seconds: try measure("Transit JSON bytes → T (TransitDecoder)") { blackHole(try tj.decode(ChatMessage<Instant>.self, from: transitJSON)) }))
let tjReader = TransitReader(format: .json)
rows.append(Row(name: "Transit JSON tree → T (TransitReader + EDNDecoder)", bytes: transitJSON.count,
                seconds: try measure("Transit JSON tree → T (TransitReader + EDNDecoder)") { blackHole(try edn.decode(ChatMessage<Instant>.self, from: try tjReader.read(transitJSON))) }))
let ednTree = try EDNReader.read(ednBytes)
rows.append(Row(name: "EDNValue → T (EDNDecoder, value already read)", bytes: ednBytes.count,
                seconds: try measure("EDNValue → T (EDNDecoder, value already read)") { blackHole(try edn.decode(ChatMessage<Instant>.self, from: ednTree)) }))
let event = Event("chat/send", ednTree)
rows.append(Row(name: "Event.decode (event built from a value: client)", bytes: ednBytes.count,
                seconds: try measure("Event.decode (event built from a value: client)") { blackHole(try event.decode(ChatMessage<Instant>.self)) }))
let tv = TransitDecoder(format: .jsonVerbose)
rows.append(Row(name: "Transit JSON-verbose bytes → T", bytes: transitVerbose.count,
                seconds: try measure("Transit JSON-verbose bytes → T") { blackHole(try tv.decode(ChatMessage<Instant>.self, from: transitVerbose)) }))
let tm = TransitDecoder(format: .msgpack)
rows.append(Row(name: "Transit MessagePack bytes → T", bytes: transitMsgpack.count,
                seconds: try measure("Transit MessagePack bytes → T") { blackHole(try tm.decode(ChatMessage<Instant>.self, from: transitMsgpack)) }))

// The engine's inbound path: bytes → frame → event → typed payload, per message.
/// An outbound socket that drops what the engine writes.
final class NullSocket: WebSocketOutbound {
    func write(_ message: [UInt8], binary: Bool) {}
    func close(code: UInt16, reason: String) {}
}
let decodedCount = Atomic<Int>(0)
/// A server (`packer`) whose inline handler decodes each `chat/send` payload as the typed
/// message (and reads `data` of any other event); with `typed`, a typed router is started on
/// it too, which turns the engine's tape path on.
func inboundConnection(_ packer: any Packer, typed: Bool) async throws -> (WebSocketConnection, StopHandle?) {
    let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, wire: .v2, packer: packer))
    let stop = typed ? EventRouter().on("chat/send", as: ChatMessage<Instant>.self) { _, _ in }.start(on: server) : nil
    server.handleEventsInline { message in
        if message.id == Keyword("chat/send") {
            if let m = try? message.decode(ChatMessage<Instant>.self), m.id == 982_451_653 { decodedCount.add(1, ordering: .relaxed) }
        } else if message.data != nil {
            decodedCount.add(1, ordering: .relaxed)
        }
    }
    let connection = await server.openWebSocket(
        ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "c-1", "uid": "bench"], isWebSocket: true), outbound: NullSocket())
    return (connection, stop)
}
/// The inbound rows. (In a function: written as top-level code, the loop's `EDNPacker` read
/// `maxDepth` 0 in a release build with Swift 6.3.1, not reduced further.)
@MainActor func inboundBench() async throws -> [Row] {
    var rows: [Row] = []
    let value = try EDNReader.read(ednBytes)
    let packers: [(String, any Packer)] = [("EDN", EDNPacker()), ("Transit JSON", TransitPacker(format: .json))]
    for (label, packer) in packers {
        for (id, what) in [("chat/send", "typed"), ("chat/plain", "untyped")] {
            let frame = try Framing.pack([.kw(id), value], callbackID: "a1b2c3", generation: .v2, packer: packer)
            for typed in [false, true] {
                let name = "engine inbound \(label) \(what), \(typed ? "typed router" : "no typed router")"
                let (connection, stop) = try await inboundConnection(packer, typed: typed)
                let before = decodedCount.load(ordering: .relaxed)
                connection.receive(frame)
                let after = decodedCount.load(ordering: .relaxed)
                check(after == before + 1, "\(name) (\(after - before) decoded)")
                rows.append(Row(name: name, bytes: frame.count, seconds: measure(name) { connection.receive(frame) }))
                stop?.stop()
            }
        }
    }
    return rows
}
let inboundRows = try await inboundBench()

// The client's inbound path: a WebSocket message → typed push / typed reply.
/// A client WebSocket fed by the bench: `push` delivers a message; a request is answered at
/// once with `reply` and the request's callback id.
final class BenchSocket: ClientWebSocket, @unchecked Sendable {
    let events: AsyncStream<ClientWebSocketEvent>
    let sink: AsyncStream<ClientWebSocketEvent>.Continuation
    let packer: any Packer
    let reply: EDNValue
    init(packer: any Packer, handshake: [UInt8], reply: EDNValue) {
        self.packer = packer
        self.reply = reply
        (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self)
        sink.yield(.message(handshake))
    }
    func push(_ message: [UInt8]) { sink.yield(.message(message)) }
    func send(_ message: [UInt8], binary: Bool) async throws {
        guard let cb = (try? Framing.unpack(message, generation: .v2, packer: packer))?.callbackID,
              let answer = try? Framing.pack(reply, callbackID: cb, generation: .v2, packer: packer) else { return }
        sink.yield(.message(answer))
    }
    func close(code: UInt16, reason: String) async { sink.finish() }
}
struct BenchTransport: ClientTransport {
    let socket: BenchSocket
    func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket { socket }
    func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse { throw TransportError("no HTTP") }
}
/// Median seconds per call of an async `body`, as `measure`.
@MainActor func measureAsync(_ name: String, _ body: () async throws -> Void) async rethrows -> Double {
    if let only {
        let text = only.hasPrefix("=") ? String(only.dropFirst()) : only
        if !name.contains(text), !name.hasPrefix("Foundation") || only.hasPrefix("=") { return .nan }
    }
    let warm = now()
    while now() - warm < timeLimit / 2 { try await body() }
    var samples: [Double] = []
    for _ in 0..<runs {
        var n = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            for _ in 0..<100 { try await body() }
            n += 100
            elapsed = now() - start
        } while elapsed < timeLimit
        samples.append(elapsed / Double(n))
    }
    samples.sort()
    return samples[samples.count / 2]
}
struct HistoryQuery: Codable, Sendable { var room: String }
/// Messages per timed call (pushed back to back, or requests in flight together), so that the
/// rows measure the client's work rather than one task switch per message.
let batch = 50
@MainActor func clientBench() async throws -> [Row] {
    var rows: [Row] = []
    let value = try EDNReader.read(ednBytes)
    let packers: [(String, any Packer)] = [("EDN", EDNPacker()), ("Transit JSON", TransitPacker(format: .json))]
    for (label, packer) in packers {
        let handshake = try Framing.pack([.kw("chsk/handshake"), ["bench", .null, .null, true]], generation: .v2, packer: packer)
        let typedPush = try Framing.pack([[.kw("chat/message"), value]], generation: .v2, packer: packer)
        let plainPush = try Framing.pack([[.kw("chat/plain"), value]], generation: .v2, packer: packer)
        /// A started, open client over a bench socket.
        func client(_ packer: any Packer) async throws -> (ChannelSocketClient, BenchSocket) {
            let socket = BenchSocket(packer: packer, handshake: handshake, reply: value)
            let client = ChannelSocketClient(url: "ws://127.0.0.1/chsk", options: .init(type: .ws, protocolGeneration: .v2, packer: packer),
                                             transport: BenchTransport(socket: socket))
            await client.start()
            try await client.waitUntilOpen(timeout: .seconds(5))
            return (client, socket)
        }
        for tape in [false, true] {
            let path = tape ? "tape" : "tree"
            let wire: any Packer = tape ? packer : TreeOnlyPacker(base: packer)
            // Typed push.
            do {
                let (c, socket) = try await client(wire)
                var all = c.events.makeAsyncIterator()
                _ = await all.next()   // the handshake
                var typed = c.events("chat/message", as: ChatMessage<Instant>.self).makeAsyncIterator()
                socket.push(typedPush)
                let first = await typed.next(), firstEvent = await all.next()
                check(first == ednValue && firstEvent != nil, "client push \(label) \(path)")
                let name = "client push \(label) typed, \(path)"
                rows.append(Row(name: name, bytes: typedPush.count, seconds: await measureAsync(name) {
                    for _ in 0..<batch { socket.push(typedPush) }
                    for _ in 0..<batch {
                        blackHole(await typed.next(isolation: #isolation))
                        blackHole(await all.next(isolation: #isolation))
                    }
                } / Double(batch)))
                await c.disconnect()
                await c.finish()
            }
            // Typed reply.
            do {
                let (c, _) = try await client(wire)
                let q = HistoryQuery(room: "lobby")
                let reply = try await c.request("chat/history", q, as: ChatMessage<Instant>.self)
                check(reply == ednValue, "client reply \(label) \(path)")
                let name = "client reply \(label) typed, \(path)"
                let replyBytes = try Framing.pack(value, callbackID: "a1b2c3", generation: .v2, packer: packer).count
                rows.append(Row(name: name, bytes: replyBytes, seconds: try await measureAsync(name) {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<batch { group.addTask { blackHole(try await c.request("chat/history", q, as: ChatMessage<Instant>.self)) } }
                        try await group.waitForAll()
                    }
                } / Double(batch)))
                await c.disconnect()
                await c.finish()
            }
        }
        // Untyped push: tree-only packer (the path before), real packer, real packer with a
        // typed stream open for another id.
        for (what, wire, stream) in [("tree-only packer", TreeOnlyPacker(base: packer) as any Packer, false),
                                     ("no typed stream", packer, false), ("typed stream for another id", packer, true)] {
            let (c, socket) = try await client(wire)
            var all = c.events.makeAsyncIterator()
            _ = await all.next()
            let other = stream ? c.events("chat/message", as: ChatMessage<Instant>.self) : nil
            socket.push(plainPush)
            let first = await all.next()
            check(first?.data == value, "client push \(label) untyped \(what)")
            let name = "client push \(label) untyped, \(what)"
            rows.append(Row(name: name, bytes: plainPush.count, seconds: await measureAsync(name) {
                for _ in 0..<batch { socket.push(plainPush) }
                for _ in 0..<batch { blackHole(await all.next(isolation: #isolation)?.data) }
            } / Double(batch)))
            withExtendedLifetime(other) {}
            await c.disconnect()
            await c.finish()
        }
    }
    return rows
}
let clientRows = try await clientBench()

// Encoding, for reference (EDNEncoder and TransitEncoder build the EDNValue, then print it).
var encodeRows: [Row] = []
let foundationEncoder = Foundation.JSONEncoder()
encodeRows.append(Row(name: "Foundation JSONEncoder (plain JSON)", bytes: jsonBytes.count,
                      seconds: try measure("Foundation JSONEncoder") { blackHole(try foundationEncoder.encode(jsonValue)) }))
let ednEncoder = EDNEncoder()
encodeRows.append(Row(name: "T → EDN bytes (EDNEncoder.encodeBytes)", bytes: ednBytes.count,
                      seconds: try measure("T → EDN bytes (EDNEncoder.encodeBytes)") { blackHole(try ednEncoder.encodeBytes(ednValue)) }))
let transitEncoder = TransitEncoder(format: .json)
encodeRows.append(Row(name: "T → Transit JSON bytes (TransitEncoder)", bytes: transitJSON.count,
                      seconds: try measure("T → Transit JSON bytes (TransitEncoder)") { blackHole(try transitEncoder.encode(ednValue)) }))

let baseline = rows[0].seconds.isNaN ? 1 : rows[0].seconds
func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    let c = s.count
    if c >= n { return s }
    return right ? String(repeating: " ", count: n - c) + s : s + String(repeating: " ", count: n - c)
}
print("typed decode of one chat message event (median of \(runs) runs, ≥ \(timeLimit) s each)")
print(pad("decoder", 52) + pad("bytes", 7, right: true) + pad("µs/op", 10, right: true) + pad("MB/s", 9, right: true) + pad("× JSONDecoder", 15, right: true))
func printRows(_ rows: [Row], baseline: Double) {
    for r in rows where !r.seconds.isNaN {
        let us = r.seconds * 1e6
        let mbs = Double(r.bytes) / r.seconds / 1e6
        print(pad(r.name, 52) + pad(String(r.bytes), 7, right: true) + pad(String(format: "%.2f", us), 10, right: true)
              + pad(String(format: "%.1f", mbs), 9, right: true) + pad(String(format: "%.2f", baseline / r.seconds), 15, right: true))
    }
}
printRows(rows, baseline: baseline)
if !inboundRows.allSatisfy({ $0.seconds.isNaN }) {
    print("")
    print(pad("engine inbound (receive → typed payload)", 52) + pad("bytes", 7, right: true) + pad("µs/op", 10, right: true) + pad("MB/s", 9, right: true) + pad("× JSONDecoder", 15, right: true))
    printRows(inboundRows, baseline: baseline)
}
if !clientRows.allSatisfy({ $0.seconds.isNaN }) {
    print("")
    print(pad("client (WebSocket message → typed push / reply)", 52) + pad("bytes", 7, right: true) + pad("µs/op", 10, right: true) + pad("MB/s", 9, right: true) + pad("× JSONDecoder", 15, right: true))
    printRows(clientRows, baseline: baseline)
}
if !encodeRows.allSatisfy({ $0.seconds.isNaN }) {
    print("")
    print(pad("encoder (for reference)", 52) + pad("bytes", 7, right: true) + pad("µs/op", 10, right: true) + pad("MB/s", 9, right: true) + pad("× JSONEncoder", 15, right: true))
    printRows(encodeRows, baseline: encodeRows[0].seconds.isNaN ? 1 : encodeRows[0].seconds)
}
