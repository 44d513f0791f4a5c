// engine-bench: the channel-socket engine without sockets, per event, in one process.
//
//   engine-bench [--seconds S] [--uids N] [--only NAME] [--json]
//
// Measures (each repeated for at least --seconds after a warm-up, median of 5 runs):
//   pack-edn        Framing.pack of a small reply [{:echo … :uid … :client-id …} "cb"], EDN packer
//   pack-transit    the same with the Transit JSON packer
//   unpack-edn      Framing.unpack of the request frame [[:bench/echo {:i 1 :s "x"}] "cb"]
//   dispatch        WebSocketConnection.receive of that frame on a server with an inline
//                   handler that replies: unpack, event validation, dispatch, reply packing and
//                   framing, down to the socket's write (an outbound that only counts bytes)
//   broadcast       server.broadcast of one event to --uids uids (one WS client each), then
//                   flush: packing and writing every client's batch; ns per delivery
//   send-each       the same with one server.send per uid, from a task (an actor hop each)
// Prints ns per operation (and operations per second); --json prints one object.

import ChannelSocket
import Transit
import EDN
import Foundation
import Synchronization

/// An outbound socket that only counts what the engine writes.
final class CountingSocket: WebSocketOutbound {
    let messages = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    func write(_ message: [UInt8], binary: Bool) {
        messages.add(1, ordering: .relaxed)
        bytes.add(message.count, ordering: .relaxed)
    }
    func close(code: UInt16, reason: String) {}
}

nonisolated(unsafe) var sink = 0

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` (which does `batch` operations) for `seconds` after a warm-up; median ns/op of 5 runs.
func measure(seconds: Double, batch: Int, _ body: () -> Void) -> Double {
    let warm = now() + min(0.5, seconds)
    while now() < warm { body() }
    var rates: [Double] = []
    for _ in 0..<5 {
        var n = 0
        let start = now()
        repeat { body(); n += batch } while now() - start < seconds
        rates.append((now() - start) * 1e9 / Double(n))
    }
    return rates.sorted()[2]
}

func measureAsync(seconds: Double, batch: Int, _ body: () async -> Void) async -> Double {
    let warm = now() + min(0.5, seconds)
    while now() < warm { await body() }
    var rates: [Double] = []
    for _ in 0..<5 {
        var n = 0
        let start = now()
        repeat { await body(); n += batch } while now() - start < seconds
        rates.append((now() - start) * 1e9 / Double(n))
    }
    return rates.sorted()[2]
}

var seconds = 1.0
var uids = 1000
var json = false
var only: String?
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--seconds": seconds = args.popFirst().flatMap(Double.init) ?? seconds
    case "--uids": uids = args.popFirst().flatMap(Int.init) ?? uids
    case "--json": json = true
    case "--only": only = args.popFirst()
    default:
        FileHandle.standardError.write(Data("usage: engine-bench [--seconds S] [--uids N] [--only NAME] [--json]\n".utf8))
        exit(2)
    }
}

var results: [(String, Double)] = []
/// Whether the measure `name` runs (all of them unless --only picks some).
@MainActor func selected(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }

let reply: EDNValue = [.kw("echo"): [.kw("bench/echo"), [.kw("i"): 1, .kw("s"): "x"]], .kw("uid"): "bench", .kw("client-id"): "c-1"]
let cb: EDNValue = "a1b2c3"
if selected("pack-edn") { results.append(("pack-edn", measure(seconds: seconds, batch: 1) {
    sink &+= (try? Framing.pack(reply, callbackID: cb, generation: .v2, packer: EDNPacker()))?.count ?? 0
})) }
if selected("pack-transit") { results.append(("pack-transit", measure(seconds: seconds, batch: 1) {
    sink &+= (try? Framing.pack(reply, callbackID: cb, generation: .v2, packer: TransitPacker(format: .json)))?.count ?? 0
})) }
let request = Array(#"[[:bench/echo {:i 1, :s "x"}] "a1b2c3"]"#.utf8)
if selected("unpack-edn") { results.append(("unpack-edn", measure(seconds: seconds, batch: 1) {
    if case .some(let f) = try? Framing.unpack(request, generation: .v2, packer: EDNPacker()) { sink &+= f.callbackID == nil ? 0 : 1 }
})) }

// dispatch: one connection, an inline handler that replies.
let server = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, wire: .v2))
server.handleEventsInline { message in
    if message.wantsReply { message.reply([.kw("echo"): message.event.value, .kw("uid"): message.uid, .kw("client-id"): .string(message.clientID)]) }
}
let socket = CountingSocket()
let connection = await server.openWebSocket(
    ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "c-1", "uid": "bench"], isWebSocket: true), outbound: socket)
if selected("dispatch") { results.append(("dispatch", measure(seconds: seconds, batch: 100) {
    for _ in 0..<100 { connection.receive(request) }
})) }

// fanout: one WS client per uid; send to each uid, then flush.
let fan = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }, wire: .v2))
let fanSocket = CountingSocket()
for i in 0..<uids {
    _ = await fan.openWebSocket(ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "f-\(i)", "uid": "u\(i)"],
                                                  isWebSocket: true), outbound: fanSocket)
}
let pushed = Event("bench/fan", [.kw("n"): 1, .kw("text"): "hello"])
let uidValues = (0..<uids).map { EDNValue.string("u\($0)") }
if selected("broadcast") { results.append(("broadcast", await measureAsync(seconds: seconds, batch: uids) {
    _ = try? await fan.broadcast(pushed)
    await fan.flush()
})) }
if selected("send-each") {
    // From a task off the main actor (as an app's handler would run), one send per uid.
    let ns = await Task.detached {
        await measureAsync(seconds: seconds, batch: uids) {
            for uid in uidValues { _ = try? await fan.send(pushed, to: uid) }
            await fan.flush()
        }
    }.value
    results.append(("send-each", ns))
}

if json {
    let fields = results.map { "\"\($0.0)-ns\": \(String(format: "%.1f", $0.1))" }
    print("{" + fields.joined(separator: ", ") + ", \"uids\": \(uids)}")
} else {
    for (name, ns) in results {
        let label = name == "broadcast" || name == "send-each" ? "per delivery (\(uids) uids)" : "per operation"
        print("\(name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(String(format: "%9.1f", ns)) ns \(label)  (\(String(format: "%.0f", 1e9 / ns))/s)")
    }
}
if sink == 42 { print("") }
