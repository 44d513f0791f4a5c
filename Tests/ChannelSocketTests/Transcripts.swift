import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import TestSupport

/// Reads the recordings in ../shared/conformance/transcripts (frames real Sente servers sent to
/// real clients) into steps a test can replay against our server.
enum Transcripts {
    static let root: URL = Checkout.shared.appendingPathComponent("conformance/transcripts")

    static var available: Bool { FileManager.default.fileExists(atPath: root.path) }

    static func lines(_ relativePath: String) throws -> [String] {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// One parsed line: time, connection number, direction, payload (comments stripped).
    struct Line {
        var connection: Int
        var direction: String   // "C>S", "S>C", "--"
        var payload: String
    }

    static func parse(_ raw: String) -> Line? {
        if raw.hasPrefix(";;") { return nil }
        var rest = Substring(raw).drop { $0 == " " }
        // time
        guard let timeEnd = rest.firstIndex(of: " ") else { return nil }
        rest = rest[timeEnd...].drop { $0 == " " }
        var connection = 1
        if rest.hasPrefix("#"), let end = rest.firstIndex(of: " ") {
            connection = Int(rest[rest.index(after: rest.startIndex)..<end]) ?? 1
            rest = rest[end...].drop { $0 == " " }
        }
        guard let dirEnd = rest.firstIndex(of: " ") ?? Optional(rest.endIndex) else { return nil }
        let direction = String(rest[..<dirEnd])
        guard ["C>S", "S>C", "--", "OPEN", "CLOSE"].contains(direction) else { return nil }
        var payload = String(rest[dirEnd...].drop { $0 == " " })
        if let comment = payload.range(of: "    ;; ") { payload = String(payload[..<comment.lowerBound]) }
        return Line(connection: connection, direction: direction, payload: payload)
    }

    /// `:server "<name>"` of the first handshake, to give our handshake the same data.
    static func serverName(_ lines: [String]) -> String {
        for line in lines {
            if let r = line.range(of: ":server \"") {
                let rest = line[r.upperBound...]
                if let end = rest.firstIndex(of: "\"") { return String(rest[..<end]) }
            }
        }
        return "chsk"
    }

    /// Query string of a URL or path.
    static func query(_ urlOrPath: String) -> [String: String] {
        guard let q = urlOrPath.firstIndex(of: "?") else { return [:] }
        var query = String(urlOrPath[urlOrPath.index(after: q)...])
        if let space = query.firstIndex(of: " ") { query = String(query[..<space]) }
        return FormDecoding.decode(query)
    }
}

/// A server with the settings used for the recordings, on a manual clock, running the echo app.
final class ReplayServer: @unchecked Sendable {
    let clock = ManualClock()
    let server: ChannelSocketServer
    let appTask: Task<Void, Never>
    let seen = AppEventLog()

    init(wire: WireOption, serverName: String, packer: any Packer = EDNPacker()) throws {
        server = try ChannelSocketServer(options: .init(
            userID: { $0.params["uid"].map(EDNValue.string) },
            handshakeData: EchoApp.handshakeData(serverName: serverName),
            csrf: .token("test-csrf-token"),
            wire: wire,
            packer: packer,
            wsKeepAlive: .milliseconds(6000),
            longPollTimeout: .milliseconds(5000),
            clock: clock))
        let app = EchoApp(server: server)
        appTask = Task { [server, seen] in
            for await message in server.events {
                var membership: AppEvent.Membership? = nil
                if message.id == Reserved.uidportOpen || message.id == Reserved.uidportClose {
                    let c = await server.connectedUIDs
                    membership = .init(ws: c.ws.contains(message.uid), ajax: c.ajax.contains(message.uid), any: c.any.contains(message.uid))
                }
                seen.append(AppEvent(event: message.event.value, uid: message.uid, clientID: message.clientID,
                                     hasReply: message.wantsReply, membership: membership))
                await app.handle(message)
            }
        }
    }

    /// Lets the reconnect grace periods run out (so the app sees the uidport-closes), stops
    /// the server and returns what the app saw.
    func finish() async -> [AppEvent] {
        await clock.advance(by: .seconds(6))
        await server.shutdown()
        await clock.settle()
        return seen.events
    }

    deinit { appTask.cancel() }

    func request(_ method: String, params: [String: String], headers: [String: String] = [:], webSocket: Bool = false) -> ConnectionRequest {
        ConnectionRequest(method: method, path: "/chsk", params: params, headers: headers, isWebSocket: webSocket)
    }

    /// Runs `body` in a task and advances the manual clock until it finishes (or `limit` of
    /// simulated time passes).
    func awaitAdvancing<T: Sendable>(_ task: Task<T, Never>, limit: Duration = .seconds(30)) async -> T? {
        let done = TaskDone()
        let watcher = Task { _ = await task.value; done.set() }
        var elapsed = Duration.zero
        while !done.isSet && elapsed < limit {
            let step: Duration = elapsed < .milliseconds(300) ? .milliseconds(10) : .milliseconds(100)
            await clock.advance(by: step)
            elapsed += step
        }
        watcher.cancel()
        return done.isSet ? await task.value : nil
    }

    /// Waits (advancing time) until the socket has `count` unread messages.
    func frames(_ socket: RecordingWebSocket, count: Int, limit: Duration = .seconds(30)) async -> [String] {
        var got: [String] = []
        var elapsed = Duration.zero
        while got.count < count && elapsed < limit {
            got += socket.drain()
            if got.count >= count { break }
            let step: Duration = elapsed < .milliseconds(300) ? .milliseconds(10) : .milliseconds(100)
            await clock.advance(by: step)
            elapsed += step
        }
        return got
    }
}

final class TaskDone: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// One event-msg as the app saw it: the fields of the recordings' `RECV {...}` lines, and for
/// `uidport-open`/`-close` the uid's membership in connected-uids at that moment.
struct AppEvent: Equatable, CustomStringConvertible {
    struct Membership: Equatable { var ws, ajax, any: Bool }
    var event: EDNValue
    var uid: EDNValue
    var clientID: String
    var hasReply: Bool
    var membership: Membership?

    var isUIDPortEvent: Bool {
        if case .vector(let v) = event, case .keyword(let k) = v.first { return k == Reserved.uidportOpen || k == Reserved.uidportClose }
        return false
    }
    var description: String {
        "\(EDNPrinter.string(event)) uid \(EDNPrinter.string(uid)) cid \(clientID) reply? \(hasReply)"
            + (membership.map { " ws \($0.ws) ajax \($0.ajax) any \($0.any)" } ?? "")
    }
}

final class AppEventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [AppEvent] = []
    func append(_ e: AppEvent) { lock.withLock { stored.append(e) } }
    var events: [AppEvent] { lock.withLock { stored } }
}
