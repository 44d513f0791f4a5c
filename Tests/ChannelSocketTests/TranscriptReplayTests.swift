import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Testing

/// Engine-level replay (no sockets): every C>S frame/request of the recordings is fed to our
/// server running the reference echo app; it must answer the S>C frames / HTTP status + body the
/// real Sente server sent (handshake data uses the recorded server name; missing client-id is a
/// deliberate 400 where Sente crashed with 500).
@Suite(.serialized) struct TranscriptReplayTests {
    struct Outcome {
        var matched = 0
        var mismatches: [String] = []
        /// What the app saw, in order (for the server-side-events recordings).
        var appEvents: [AppEvent] = []
    }

    static let webSocketFiles: [(String, WireOption)] = [
        ("sente-1.21.0/ws-edn.txt", .v2), ("sente-1.21.0/browser-ws.txt", .v2), ("sente-1.21.0/jvm-client-ws.txt", .v2),
        ("sente-1.14.0-RC2/ws-edn-v1.txt", .v1), ("sente-1.14.0-RC2/browser-ws-v1.txt", .v1),
        // `auto` serves both generations on one server: identical except for the handshake,
        // which `auto` sends in v2 form (a 1.14 EDN client reads it, sente-protocol.md §1).
        ("sente-1.21.0/ws-edn.txt", .auto), ("sente-1.21.0/browser-ws.txt", .auto), ("sente-1.21.0/jvm-client-ws.txt", .auto),
        ("sente-1.14.0-RC2/ws-edn-v1.txt", .auto), ("sente-1.14.0-RC2/browser-ws-v1.txt", .auto),
    ]
    static let ajaxFiles: [(String, WireOption)] = [
        ("sente-1.21.0/ajax-edn.txt", .v2), ("sente-1.21.0/browser-ajax.txt", .v2),
        ("sente-1.14.0-RC2/ajax-edn-v1.txt", .v1), ("sente-1.14.0-RC2/browser-ajax-v1.txt", .v1),
    ]

    @Test(arguments: webSocketFiles)
    func webSocketTranscript(file: String, wire: WireOption) async throws {
        try #require(Transcripts.available, "shared/conformance/transcripts not found")
        let outcome = try await Self.replayWebSocket(file, wire: wire)
        #expect(outcome.mismatches.isEmpty, "\(file): \(outcome.mismatches.joined(separator: "\n"))")
        #expect(outcome.matched >= 3)
        print("replayed \(file): \(outcome.matched) exchanges matched")
    }

    @Test(arguments: ajaxFiles)
    func ajaxTranscript(file: String, wire: WireOption) async throws {
        try #require(Transcripts.available, "shared/conformance/transcripts not found")
        let outcome = try await Self.replayAjax(file, wire: wire)
        #expect(outcome.mismatches.isEmpty, "\(file): \(outcome.mismatches.joined(separator: "\n"))")
        #expect(outcome.matched >= 5)
        print("replayed \(file): \(outcome.matched) exchanges matched")
    }

    // MARK: WebSocket

    static func replayWebSocket(_ file: String, wire: WireOption) async throws -> Outcome {
        let lines = try Transcripts.lines(file)
        let replay = try ReplayServer(wire: wire, serverName: Transcripts.serverName(lines))
        var outcome = Outcome()
        var sockets: [Int: (connection: WebSocketConnection, socket: RecordingWebSocket)] = [:]
        var expected: [Int: [String]] = [:]
        var pendingConnect: [String: String]? = nil

        func flush(_ n: Int) async {
            guard let want = expected[n], !want.isEmpty, let s = sockets[n] else { return }
            expected[n] = []
            let got = await replay.frames(s.socket, count: want.count)
            for (i, w) in want.enumerated() {
                if i < got.count && got[i] == w {
                    outcome.matched += 1
                } else {
                    outcome.mismatches.append("#\(n) expected \(w)\n   got \(i < got.count ? got[i] : "nothing")")
                }
            }
        }
        func flushAll() async { for n in expected.keys.sorted() { await flush(n) } }

        func open(_ n: Int, params: [String: String], headers: [String: String]) async {
            let request = replay.request("GET", params: params, headers: headers, webSocket: true)
            if let rejection = replay.server.check(request) {
                outcome.mismatches.append("#\(n) upgrade rejected: \(rejection.status) \(rejection.bodyText)")
                return
            }
            let socket = RecordingWebSocket()
            let connection = await replay.server.openWebSocket(request, outbound: socket)
            sockets[n] = (connection, socket)
        }

        var connectionNumber = 0
        for raw in lines {
            guard let line = Transcripts.parse(raw) else { continue }
            let n = line.direction == "OPEN" || line.direction == "CLOSE" || line.payload.hasPrefix("[txt]") ? line.connection : connectionNumber
            switch line.direction {
            case "OPEN":
                await flushAll()
                connectionNumber = line.connection
                await open(n, params: Transcripts.query(line.payload), headers: [:])
            case "CLOSE":
                await flushAll()
                if let s = sockets[n] { await s.connection.closed() }
            case "S>C":
                var frame = String(line.payload.dropFirst("[txt] ".count))
                if wire == .auto, frame.hasPrefix("-[:chsk/handshake "),
                   case .vector(let hs) = try EDNReader.read(String(frame.dropFirst())), case .vector(var args) = hs[1] {
                    if args.count == 2 { args.append(.null) }
                    frame = EDNPrinter.string([[hs[0], .vector(args)], .null])
                }
                expected[connectionNumber == 0 ? n : connectionNumber, default: []].append(frame)
            case "C>S":
                let target = connectionNumber == 0 ? n : connectionNumber
                await flush(target)
                let frame = String(line.payload.dropFirst("[txt] ".count))
                sockets[target]?.connection.receive(Array(frame.utf8))
            default:
                let p = line.payload
                if p.hasPrefix("CONNECT ") {
                    await flushAll()
                    pendingConnect = Transcripts.query(p)
                } else if p.hasPrefix("rejected as expected"), let params = pendingConnect {
                    let status = Int(p.components(separatedBy: "HTTP ").last ?? "") ?? 0
                    let reply = replay.server.check(replay.request("GET", params: params, webSocket: true))
                    // Sente answers a missing client-id with a crash (500); we answer 400 on purpose.
                    let want = status == 500 ? 400 : status
                    if reply?.status == want { outcome.matched += 1 } else {
                        outcome.mismatches.append("CONNECT \(params): expected HTTP \(want), got \(reply.map { "\($0.status)" } ?? "upgrade")")
                    }
                    pendingConnect = nil
                } else if p.hasPrefix("HTTP upgrade response"), let params = pendingConnect {
                    connectionNumber += 1
                    await open(connectionNumber, params: params, headers: [:])
                    pendingConnect = nil
                } else if p.hasPrefix("HTTP GET /push?") {
                    await flushAll()
                    let q = Transcripts.query(p)
                    let event = Event(validating: try EDNReader.read(q["ev"] ?? ""))!
                    try await replay.server.send(event, to: .string(q["uid"] ?? ""))
                } else if p.hasPrefix("HTTP GET /connected"), let body = p.components(separatedBy: "-> 200 '").last?.dropLast() {
                    await flushAll()
                    let want = try EDNReader.read(String(body))
                    let got = await replay.server.connectedUIDs.value
                    if got == want { outcome.matched += 1 } else { outcome.mismatches.append("connected: expected \(want), got \(got)") }
                } else if p.hasPrefix("(no frame within") {
                    await flushAll()
                    await replay.clock.settle()
                    if let s = sockets[connectionNumber], case let extra = s.socket.drain(), !extra.isEmpty {
                        outcome.mismatches.append("expected no frame, got \(extra)")
                    } else {
                        outcome.matched += 1
                    }
                } else if p.hasPrefix("closing") {
                    await flushAll()
                    if let s = sockets[connectionNumber] { await s.connection.closed() }
                } else if p.hasPrefix("idle") {
                    await flushAll()
                }
            }
        }
        await flushAll()
        outcome.appEvents = await replay.finish()
        return outcome
    }

    // MARK: Ajax

    struct Outstanding {
        let kind: String   // GET or POST
        let label: String
        let result: ResultBox
    }

    static func header(_ payload: String) -> [String: String] {
        // curl: "-H X-CSRF-Token: value"; browser: "X-CSRF-Token='value'"
        if let r = payload.range(of: "-H X-CSRF-Token: ") {
            let rest = payload[r.upperBound...]
            let value = rest.components(separatedBy: " --").first ?? ""
            return ["x-csrf-token": value.trimmingCharacters(in: .whitespaces)]
        }
        if let r = payload.range(of: "X-CSRF-Token='") {
            let rest = payload[r.upperBound...]
            return ["x-csrf-token": String(rest.prefix { $0 != "'" })]
        }
        return [:]
    }

    static func postParams(_ payload: String) -> [String: String] {
        if let r = payload.range(of: "body='") {
            let body = payload[r.upperBound...].prefix { $0 != "'" }
            return FormDecoding.decode(body)
        }
        var params: [String: String] = [:]
        for part in payload.components(separatedBy: " --data-urlencode ").dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            params[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return params
    }

    static func replayAjax(_ file: String, wire: WireOption) async throws -> Outcome {
        let lines = try Transcripts.lines(file)
        let replay = try ReplayServer(wire: wire, serverName: Transcripts.serverName(lines))
        var outcome = Outcome()
        var outstanding: [Outstanding] = []
        var connectedRequested = false
        let server = replay.server

        func start(_ kind: String, params: [String: String], headers: [String: String], label: String) {
            let request = replay.request(kind, params: params, headers: headers)
            let box = ResultBox()
            Task {
                if let rejection = server.check(request) { box.set(rejection); return }
                box.set(kind == "GET" ? await server.poll(request) : await server.post(request))
            }
            outstanding.append(Outstanding(kind: kind, label: label, result: box))
        }

        func resolve(status: Int, body: String, kind: String?) async {
            let candidates = outstanding.indices.filter { kind == nil || outstanding[$0].kind == kind }
            guard !candidates.isEmpty else {
                outcome.mismatches.append("response \(status) \(body) with no outstanding request")
                return
            }
            // Wait for one of the candidates (advancing time) that answers as recorded.
            var elapsed = Duration.zero
            while elapsed < .seconds(30) {
                await replay.clock.settle()
                for i in candidates {
                    if let reply = outstanding[i].result.value, reply.status == status && reply.bodyText == body {
                        outcome.matched += 1
                        outstanding.remove(at: i)
                        return
                    }
                }
                let step: Duration = elapsed < .milliseconds(300) ? .milliseconds(10) : .milliseconds(100)
                await replay.clock.advance(by: step)
                elapsed += step
            }
            var got: [String] = []
            for i in candidates { if let r = outstanding[i].result.value { got.append("\(r.status) \(r.bodyText)") } else { got.append("(pending)") } }
            outcome.mismatches.append("expected \(status) \(body); outstanding \(kind ?? "any") answered \(got)")
        }

        for raw in lines {
            guard let line = Transcripts.parse(raw) else { continue }
            let p = line.payload
            switch line.direction {
            case "C>S":
                if p.hasPrefix("GET /connected") {
                    connectedRequested = true
                } else if p.hasPrefix("GET ") {
                    start("GET", params: Transcripts.query(p), headers: header(p), label: p)
                } else if p.hasPrefix("POST ") {
                    start("POST", params: postParams(p), headers: header(p), label: p)
                }
            case "S>C":
                // curl: "200 text/html; charset=utf-8  body: X" / "403   body: X"; browser: "200 …  'X'   (for GET …)"
                let status = Int(p.prefix { $0.isNumber }) ?? 0
                var body: String
                var kind: String? = nil
                if let r = p.range(of: "  body: ") {
                    body = String(p[r.upperBound...])
                } else if let start = p.firstIndex(of: "'"), let end = p.range(of: "'   (for ", options: .backwards) {
                    body = String(p[p.index(after: start)..<end.lowerBound])
                    kind = p[end.upperBound...].hasPrefix("POST") ? "POST" : "GET"
                } else {
                    body = ""
                }
                if connectedRequested {
                    connectedRequested = false
                    let want = try EDNReader.read(body)
                    let got = await server.connectedUIDs.value
                    if got == want { outcome.matched += 1 } else { outcome.mismatches.append("connected: expected \(want), got \(got)") }
                    continue
                }
                if kind == nil && file.contains("ajax-edn") {
                    // curl is sequential: the oldest outstanding request gets this response.
                    kind = outstanding.first?.kind
                    let first = outstanding.first
                    if let first {
                        outstanding.removeFirst()
                        outstanding.insert(first, at: 0)
                    }
                }
                await resolve(status: status, body: body, kind: kind)
            default:
                if p.hasPrefix("(pushed "), let to = p.range(of: " to ") {
                    let edn = String(p[p.index(p.startIndex, offsetBy: "(pushed ".count)..<to.lowerBound])
                    let uid = p[to.upperBound...].prefix { $0 != " " }
                    try await server.send(Event(validating: try EDNReader.read(edn))!, to: .string(String(uid)))
                } else if p.hasPrefix("(POST "), let arrow = p.range(of: " -> ") {
                    let ppstr = String(p[p.index(p.startIndex, offsetBy: "(POST ".count)..<arrow.lowerBound])
                    let want = String(p[arrow.upperBound...].dropLast())
                    let request = replay.request("POST", params: ["client-id": "curl-ajax-1", "uid": "bob", "ppstr": ppstr],
                                                 headers: ["x-csrf-token": "test-csrf-token"])
                    let reply = await server.post(request)
                    if reply.bodyText == want { outcome.matched += 1 } else { outcome.mismatches.append("POST \(ppstr): expected \(want), got \(reply.bodyText)") }
                }
            }
        }
        outcome.appEvents = await replay.finish()
        return outcome
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: HTTPReply?
    func set(_ v: HTTPReply) { lock.lock(); stored = v; lock.unlock() }
    var value: HTTPReply? { lock.lock(); defer { lock.unlock() }; return stored }
}
