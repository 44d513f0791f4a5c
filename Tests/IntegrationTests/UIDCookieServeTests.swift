import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import TestSupport
import Testing

/// `chsk serve --uid-cookie NAME`: the user id comes from the cookie, over WebSocket and Ajax.
@Suite(.serialized) struct UIDCookieServeTests {
    @Test func handshakeAndRepliesCarryTheCookiesUID() async throws {
        let server = try ServeProcess(["--echo", "--uid-cookie", "sid"])
        defer { _ = server.terminate() }
        // Ajax handshake, as curl sends it.
        let hs = ServeProcess.run("/usr/bin/curl", ["-s", "-m", "5", "-H", "Cookie: theme=dark; sid=alice",
                                                    "http://127.0.0.1:\(server.port)/chsk?client-id=c1&uid=ignored&handshake%3F=1"])
        #expect(hs.output.hasPrefix("[[:chsk/handshake [\"alice\" nil"), "\(hs.output)")
        // Without the cookie: no user (the parameter is not read).
        let anon = ServeProcess.run("/usr/bin/curl", ["-s", "-m", "5",
                                                      "http://127.0.0.1:\(server.port)/chsk?client-id=c2&uid=bob&handshake%3F=1"])
        #expect(anon.output.hasPrefix("[[:chsk/handshake [:sente/nil-uid nil"), "\(anon.output)")
        for type in [ClientType.ws, .ajax] {
            let client = ChannelSocketClient(url: "http://127.0.0.1:\(server.port)/chsk",
                                             options: .init(type: type, params: ["uid": "ignored"], headers: ["Cookie": "sid=carol-\(type.rawValue)"]),
                                             transport: NIOClientTransport())
            await client.start()
            #expect(await eventually { await client.currentState.isOpen })
            #expect(await client.currentState.uid == .string("carol-\(type.rawValue)"))
            let reply = try await client.request(Event("my/req"), timeout: .seconds(5))
            #expect(reply[.kw("uid")] == .string("carol-\(type.rawValue)"))
            await client.disconnect()
        }
    }
}
