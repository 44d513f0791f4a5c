import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A raw HTTP/1.1 client over one loopback TCP connection (so a test can see which requests
/// share a connection and can hang up mid-poll). Every read has a deadline.
final class RawHTTPConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); throw TranscriptError("connect failed: errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ method: String, _ target: String) {
        sendPipelined([(method, target)])
    }

    /// Several requests in one write (HTTP/1.1 pipelining).
    func sendPipelined(_ requests: [(String, String)]) {
        let text = requests.map { "\($0.0) \($0.1) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CSRF-Token: tok\r\n\r\n" }.joined()
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The next response (status, body), or nil when none is complete within `seconds` or the
    /// server closed the connection.
    func response(within seconds: Double) -> (status: Int, body: String, closes: Bool)? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let r = parse() { return r }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32(left * 1000) + 1) <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return parse() }
            buffer += chunk[0..<n]
        }
    }

    private func parse() -> (status: Int, body: String, closes: Bool)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, buffer.count - 3)).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) else { return nil }
        let head = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: "\r\n")
        let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var length = 0, closes = false
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 && parts[0].lowercased() == "content-length" { length = Int(parts[1]) ?? 0 }
            if parts.count == 2 && parts[0].lowercased() == "connection" && parts[1].lowercased() == "close" { closes = true }
        }
        guard buffer.count >= end + 4 + length else { return nil }
        let body = String(decoding: buffer[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        buffer.removeFirst(end + 4 + length)
        return (status, body, closes)
    }
}

struct TranscriptError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Long-polls of `chsk serve` keep their connection (keep-alive), share it with other routes,
/// and a client that hangs up mid-poll loses nothing: the push waits for its next poll.
@Suite(.serialized) struct AjaxKeepAliveTests {
    @Test func pollsShareOneKeepAliveConnection() throws {
        let server = try ServeProcess(["--echo", "--csrf-token", "tok", "--lp-timeout-ms", "300"])
        defer { _ = server.terminate() }
        let c = try RawHTTPConnection(port: server.port)
        let q = "/chsk?client-id=k1&uid=kate"
        c.send("GET", q + "&handshake%3F=1")
        let handshake = c.response(within: 5)
        #expect(handshake?.status == 200)
        #expect(handshake?.body.hasPrefix("[[:chsk/handshake [\"kate\"") == true)
        #expect(handshake?.closes == false)
        // A poll with nothing to deliver: :chsk/timeout after 300 ms, same connection.
        c.send("GET", q)
        let timeout = c.response(within: 5)
        #expect(timeout?.status == 200 && timeout?.body == "[:chsk/timeout nil]" && timeout?.closes == false)
        // Another route on the same connection (Hummingbird's), then a poll again.
        c.send("GET", "/connected")
        let connected = c.response(within: 5)
        #expect(connected?.status == 200)
        #expect(connected?.body.contains("\"kate\"") == true)
        // A push while the poll is held arrives on it.
        c.send("GET", q)
        Thread.sleep(forTimeInterval: 0.1)
        let pusher = try RawHTTPConnection(port: server.port)
        pusher.send("GET", "/push?uid=kate&ev=" + "[:my/note 1]".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(pusher.response(within: 5)?.status == 200)
        let pushed = c.response(within: 5)
        #expect(pushed?.body == "[[[:my/note 1]] nil]")
        // A bad CSRF token on a kept-alive connection: Sente's 403, connection still usable.
        c.send("GET", q + "&csrf-token=nope")
        let refused = c.response(within: 5)
        #expect(refused?.status == 403 && refused?.body == "Bad CSRF token")
        c.send("GET", q)
        #expect(c.response(within: 5)?.body == "[:chsk/timeout nil]")
    }

    /// Pipelined requests are answered in order, whichever of them is a held poll.
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try ServeProcess(["--echo", "--csrf-token", "tok", "--lp-timeout-ms", "300"])
        defer { _ = server.terminate() }
        let c = try RawHTTPConnection(port: server.port)
        let q = "/chsk?client-id=p1&uid=pia"
        c.send("GET", q + "&handshake%3F=1")
        #expect(c.response(within: 5)?.status == 200)
        // A held poll first, a Hummingbird route behind it: the route waits for the poll.
        c.sendPipelined([("GET", q), ("GET", "/connected")])
        let first = c.response(within: 5), second = c.response(within: 5)
        #expect(first?.body == "[:chsk/timeout nil]", "\(String(describing: first))")
        #expect(second?.status == 200 && second?.body.contains("\"pia\"") == true, "\(String(describing: second))")
        // The other way round, and two polls in a row.
        c.sendPipelined([("GET", "/csrf"), ("GET", q), ("GET", q)])
        let csrf = c.response(within: 5), poll1 = c.response(within: 5), poll2 = c.response(within: 5)
        #expect(csrf?.status == 200 && csrf?.body.contains("tok") == true, "\(String(describing: csrf))")
        #expect(poll1?.body == "[:chsk/timeout nil]" && poll2?.body == "[:chsk/timeout nil]")
    }

    @Test func aClientThatHangsUpMidPollLosesNoPush() throws {
        let server = try ServeProcess(["--echo", "--csrf-token", "tok"])
        defer { _ = server.terminate() }
        let q = "/chsk?client-id=h1&uid=hank"
        do {
            let first = try RawHTTPConnection(port: server.port)
            first.send("GET", q + "&handshake%3F=1")
            #expect(first.response(within: 5)?.status == 200)
            first.send("GET", q)                       // held (lp-timeout 20 s)
            Thread.sleep(forTimeInterval: 0.2)
        }                                              // hang up mid-poll
        Thread.sleep(forTimeInterval: 0.2)
        let pusher = try RawHTTPConnection(port: server.port)
        pusher.send("GET", "/push?uid=hank&ev=" + "[:my/note 2]".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(pusher.response(within: 5)?.status == 200)
        Thread.sleep(forTimeInterval: 0.3)
        let second = try RawHTTPConnection(port: server.port)
        second.send("GET", q)
        let delivered = second.response(within: 5)
        #expect(delivered?.body == "[[[:my/note 2]] nil]", "server log:\n\(server.log.suffix(2000))")
    }
}
