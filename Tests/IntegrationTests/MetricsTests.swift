import Foundation
import TestSupport
import Testing

/// `chsk serve --metrics`: a scrape of GET /metrics in Prometheus' text format shows what
/// happened, counted on the server side, each figure checked against traffic this test made.
@Suite(.serialized) struct MetricsTests {
    /// One sample line: `name{a="x",b="y"} value`.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    static func parse(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            let head = line[..<space]
            guard let brace = head.firstIndex(of: "{") else { return Sample(name: String(head), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in head[head.index(after: brace)..<head.index(before: head.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(head[..<brace]), labels: labels, value: value)
        }
    }

    /// The value of `name` with (at least) `labels`, summed over the other labels; nil if absent.
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    @Test func scrapeShowsTheTrafficOfThisTest() throws {
        let server = try ServeProcess(["--echo", "--metrics", "--csrf-token", "tok"])
        defer { _ = server.terminate() }
        let port = server.port
        let url = "http://127.0.0.1:\(port)/chsk"
        // Three WebSocket events with replies (one-shot clients), each answered.
        for n in 1...3 {
            let r = ServeProcess.run(Checkout.chsk.path, ["send", url, "[:my/req \(n)]", "--reply", "--uid", "ann", "--csrf-token", "tok", "--type", "ws"], timeout: 30)
            #expect(r.status == 0, "\(r.output)")
        }
        // An Ajax client of bob: handshake, a held poll answered by one push.
        let token = "X-CSRF-Token: tok"
        #expect(DevServerSafetyTests.curl(port, "/chsk?client-id=b1&uid=bob&handshake%3F=1", [token]).status == 200)
        let poll = BackgroundJob { DevServerSafetyTests.curl(port, "/chsk?client-id=b1&uid=bob", [token]) }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(DevServerSafetyTests.curl(port, "/push?uid=bob&ev=" + DevServerSafetyTests.query("[:my/note 1]"), [token]).status == 200)
        let answered = poll.wait(timeout: 10)
        #expect(answered?.body == "[[[:my/note 1]] nil]")
        // Two refusals: no token, evil origin.
        #expect(DevServerSafetyTests.curl(port, "/push?uid=bob&ev=" + DevServerSafetyTests.query("[:my/note 2]")).status == 403)
        #expect(DevServerSafetyTests.curl(port, "/chsk?client-id=x&uid=eve&handshake%3F=1", [token, "X-CSRF-Token: nope"]).status == 403)
        // A poll held while scraping.
        let held = BackgroundJob { DevServerSafetyTests.curl(port, "/chsk?client-id=b1&uid=bob", [token]) }
        Thread.sleep(forTimeInterval: 0.5)

        let scrape = DevServerSafetyTests.curl(port, "/metrics")
        #expect(scrape.status == 200)
        let m = Self.parse(scrape.body)
        #expect(Self.value(m, "chsk_events_received_total", ["transport": "ws", "origin": "client"]) == 3, "\(scrape.body.prefix(3000))")
        #expect(Self.value(m, "chsk_events_received_total", ["transport": "ajax", "origin": "client"]) == 0)
        #expect((Self.value(m, "chsk_events_received_total", ["origin": "engine"]) ?? 0) >= 2)   // uidport-open of ann, bob
        #expect(Self.value(m, "chsk_pushes_total", ["kind": "send"]) == 1)
        #expect(Self.value(m, "chsk_sent_bytes_total", ["transport": "ajax"]) == Double("[[[:my/note 1]] nil]".utf8.count))
        #expect(Self.value(m, "chsk_push_batch_events_count", ["transport": "ajax"]) == 1)
        #expect(Self.value(m, "chsk_push_delivery_seconds_count", ["transport": "ajax"]) == 1)
        #expect(Self.value(m, "chsk_refusals_total", ["reason": "csrf"]) == 2)
        #expect(Self.value(m, "chsk_refusals_total", ["reason": "origin"]) == 0)
        #expect(Self.value(m, "chsk_held_polls") == 1)
        #expect(Self.value(m, "chsk_connections", ["transport": "ajax"]) == 1)
        #expect((Self.value(m, "chsk_received_bytes_total", ["transport": "ws"]) ?? 0) >= Double("[[:my/req 1] \"x\"]".utf8.count * 3))
        #expect((Self.value(m, "chsk_event_loop_stall_seconds_count") ?? 0) > 0)
        #expect(Self.value(m, "chsk_ws_outbound_queued_bytes") != nil)
        // Not for a cross-site browser page.
        #expect(DevServerSafetyTests.curl(port, "/metrics", ["Origin: http://evil.example"]).status == 403)
        _ = held.wait(timeout: 30)
    }
}
