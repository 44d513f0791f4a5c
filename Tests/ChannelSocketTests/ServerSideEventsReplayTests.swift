import ChannelSocket
import EDN
import Foundation
import Testing

/// The `server-side-events-*.txt` recordings: what the real server's app saw (`RECV {...}` per
/// event-msg, `CONNECTED-UIDS` after each change) while the socket recordings were made. We
/// replay those socket recordings on our engine (as `TranscriptReplayTests` does) and compare
/// what our app saw, per client session (a client id's events up to its `uidport-close`):
/// the same event-msgs (event, uid, client-id, has a reply fn) — in order for WebSocket
/// sessions, as a multiset for Ajax (a browser's POSTs and polls race) — and, at each
/// `uidport-open`/`-close`, the uid's membership in `:ws`/`:ajax`/`:any`.
@Suite(.serialized) struct ServerSideEventsReplayTests {
    enum Transport: Sendable { case webSocket, ajax }

    /// Per server: its server-side-events files (one server process logged them; the runs
    /// overlapped, so a session can start in one file and end in the other) and the socket
    /// recordings made against it.
    static let servers: [([String], [(String, WireOption, Transport)])] = [
        (["sente-1.21.0/server-side-events-python-run.txt", "sente-1.21.0/server-side-events-browser-run.txt"],
         [("sente-1.21.0/ws-edn.txt", .v2, .webSocket), ("sente-1.21.0/ajax-edn.txt", .v2, .ajax),
          ("sente-1.21.0/jvm-client-ws.txt", .v2, .webSocket),
          ("sente-1.21.0/browser-ws.txt", .v2, .webSocket), ("sente-1.21.0/browser-ajax.txt", .v2, .ajax)]),
        (["sente-1.14.0-RC2/server-side-events-browser-ws.txt", "sente-1.14.0-RC2/server-side-events-browser-ajax.txt"],
         [("sente-1.14.0-RC2/browser-ws-v1.txt", .v1, .webSocket), ("sente-1.14.0-RC2/browser-ajax-v1.txt", .v1, .ajax)]),
    ]

    /// The recorded event-msgs of the files, merged by their timestamps (identical lines
    /// once); a uidport event gets the membership of the `CONNECTED-UIDS` line printed just
    /// before it.
    static func load(_ files: [String]) throws -> [AppEvent] {
        var lines: [(Int, Int, String)] = []
        var seen: Set<String> = []
        for file in files {
            for raw in try Transcripts.lines(file) where seen.insert(raw).inserted {
                guard raw.hasPrefix("["), let end = raw.firstIndex(of: "]"), let ts = Int(raw[raw.index(after: raw.startIndex)..<end]) else { continue }
                lines.append((ts, lines.count, raw))
            }
        }
        lines.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var connected: EDNValue = .null
        var out: [AppEvent] = []
        for (_, _, raw) in lines {
            guard let close = raw.firstIndex(of: "]") else { continue }
            let line = raw[raw.index(after: close)...].drop { $0 == " " }
            if line.hasPrefix("CONNECTED-UIDS ") {
                connected = try EDNReader.read(String(line.dropFirst("CONNECTED-UIDS ".count)))
            } else if line.hasPrefix("RECV ") {
                let m = try EDNReader.read(String(line.dropFirst("RECV ".count)))
                guard let event = m[.kw("event")], let uid = m[.kw("uid")], case .string(let cid) = m[.kw("client-id")] ?? .null else {
                    throw TranscriptError("RECV line without event/uid/client-id: \(raw)")
                }
                var e = AppEvent(event: event, uid: uid, clientID: cid, hasReply: m[.kw("has-reply-fn?")] == .bool(true), membership: nil)
                if e.isUIDPortEvent {
                    func member(_ key: String) -> Bool {
                        if case .set(let s) = connected[.kw(key)] ?? .null { return s.contains(uid) }
                        return false
                    }
                    e.membership = .init(ws: member("ws"), ajax: member("ajax"), any: member("any"))
                }
                out.append(e)
            }
        }
        return out
    }

    /// Events per client id, cut after each `uidport-close` of that client.
    static func sessions(_ events: [AppEvent]) -> [String: [[AppEvent]]] {
        var open: [String: [AppEvent]] = [:]
        var done: [String: [[AppEvent]]] = [:]
        for e in events {
            open[e.clientID, default: []].append(e)
            if case .vector(let v) = e.event, v.first == .keyword(Reserved.uidportClose) {
                done[e.clientID, default: []].append(open.removeValue(forKey: e.clientID) ?? [])
            }
        }
        for (cid, rest) in open { done[cid, default: []].append(rest) }
        return done
    }

    @Test(arguments: servers)
    func appSeesWhatSentesAppSaw(files: [String], recordings: [(String, WireOption, Transport)]) async throws {
        try #require(Transcripts.available, "shared/conformance/transcripts not found")
        var recorded = Self.sessions(try Self.load(files))
        let recordedCount = recorded.values.reduce(0) { $0 + $1.count }
        var matchedSessions = 0, matchedEvents = 0
        var mismatches: [String] = []
        for (recording, wire, transport) in recordings {
            let outcome = transport == .webSocket
                ? try await TranscriptReplayTests.replayWebSocket(recording, wire: wire)
                : try await TranscriptReplayTests.replayAjax(recording, wire: wire)
            let ours = Self.sessions(outcome.appEvents)
            #expect(!ours.isEmpty, "\(recording): the app saw nothing")
            for (cid, sessions) in ours.sorted(by: { $0.key < $1.key }) {
                for session in sessions {
                    let candidates = recorded[cid] ?? []
                    // A recorded session that never closed (the recording stopped first) is
                    // compared with ours up to our uidport-close.
                    let same: (([AppEvent]) -> Bool) = { rec in
                        let closed = rec.last.map { $0.isUIDPortEvent && $0.membership?.any == false } ?? false
                        let mine = closed || session.last?.membership?.any != false ? session : Array(session.dropLast())
                        return transport == .webSocket ? rec == mine : rec.map(\.description).sorted() == mine.map(\.description).sorted()
                    }
                    if let i = candidates.firstIndex(where: same) {
                        recorded[cid]?.remove(at: i)
                        matchedSessions += 1
                        matchedEvents += session.count
                    } else {
                        mismatches.append("\(recording) client \(cid): our app saw\n    \(session.map(\.description).joined(separator: "\n    "))\n  recorded:\n    \(candidates.map { $0.map(\.description).joined(separator: "\n    ") }.joined(separator: "\n  or\n    "))")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(files):\n\(mismatches.joined(separator: "\n"))")
        #expect(matchedSessions >= 1)
        // Sessions of clients whose socket traffic was not recorded (smoke tests, an earlier
        // run of the same JVM client) cannot be replayed; they are named here.
        let unreplayed = recorded.filter { !$0.value.isEmpty }.map { "\($0.key) ×\($0.value.count)" }.sorted()
        print("server-side events \(files): \(matchedSessions) of \(recordedCount) recorded client sessions replayed and matched (\(matchedEvents) event-msgs); not replayable (no socket recording): \(unreplayed)")
    }
}
