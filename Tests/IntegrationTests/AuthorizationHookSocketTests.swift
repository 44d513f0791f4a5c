import ChannelSocket
import ChannelSocketHummingbird
import EDN
import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

/// The authorization hooks through the Hummingbird adapter, as bytes on the wire: a WebSocket
/// upgrade, an Ajax poll and an Ajax POST refused with the hook's status and body; the uid
/// from a cookie; every refusal counted.
@Suite(.serialized) struct AuthorizationHookSocketTests {
    @Test func hookRepliesReachTheClientOnEveryTransport() async throws {
        var options = ChannelSocketServerOptions(userID: UserIDSource.cookie("sid").userID)
        options.authorize = { $0.cookie("sid") != nil }
        options.unauthorized = { _ in HTTPReply(status: 403, text: "Log in first") }
        options.authorization = { $0.cookie("sid") == "mallory" ? HTTPReply(status: 451, text: "banned") : nil }
        let server = try ChannelSocketServer(options: options)
        let portBox = Mutex<Int?>(nil)
        let app = try ChannelSocketApplication(server: server, configuration: .init(host: "127.0.0.1", port: 0))
            .build(onServerRunning: { port in portBox.withLock { $0 = port } })
        let running = Task { try await app.run() }
        defer { running.cancel() }
        let deadline = Date().addingTimeInterval(20)
        while portBox.withLock({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let port = try #require(portBox.withLock { $0 })
        let url = "http://127.0.0.1:\(port)/chsk?client-id=c1"
        let upgrade = ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
                       "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        func curl(_ args: [String]) -> String {
            ChildProcess.run("/usr/bin/curl", ["-s", "-i", "-m", "5"] + args, timeout: 10).stdout
                .replacingOccurrences(of: "\r\n", with: "\n")
        }
        for (cookie, status, body) in [(nil, "403", "Log in first"), ("sid=mallory", "451", "banned")] {
            let c = cookie.map { ["-H", "Cookie: \($0)"] } ?? []
            let ws = curl(upgrade + c + [url])
            #expect(ws.hasPrefix("HTTP/1.1 \(status)"), "ws: \(ws)")
            #expect(ws.hasSuffix("\n\n\(body)"), "ws: \(ws)")
            let poll = curl(c + [url + "&handshake%3F=1"])
            #expect(poll.hasPrefix("HTTP/1.1 \(status)") && poll.hasSuffix("\n\n\(body)"), "poll: \(poll)")
            let post = curl(c + ["--data", "client-id=c1&ppstr=%5B%3Aa%2Fb%5D", "http://127.0.0.1:\(port)/chsk"])
            #expect(post.hasPrefix("HTTP/1.1 \(status)") && post.hasSuffix("\n\n\(body)"), "post: \(post)")
        }
        // Allowed: the upgrade goes through (101) and the handshake carries the cookie's uid.
        let ok = curl(["-H", "Cookie: sid=alice", url + "&handshake%3F=1"])
        #expect(ok.hasPrefix("HTTP/1.1 200") && ok.contains("[[:chsk/handshake [\"alice\""), "\(ok)")
        let ws = ChildProcess.run("/usr/bin/curl", ["-s", "-i", "-m", "1", "-H", "Cookie: sid=alice"] + upgrade + [url], timeout: 10).stdout
        #expect(ws.hasPrefix("HTTP/1.1 101"), "\(ws)")
        #expect(server.refusalCounts[.unauthorized] == 6)
        await server.shutdown()
    }
}
