import ChannelSocket
import ChannelSocketClientNIO
import Testing

/// URLs are checked before any connection is tried, by the transport itself too.
@Suite struct ClientURLTests {
    @Test func problemsAreNamed() {
        for ok in ["http://127.0.0.1:8090/chsk", "ws://localhost/chsk?x=1", "https://user@h:443/p#f", "wss://[::1]:65535/c",
                   "HTTP://Example.com"] {
            #expect(ClientURL.problem(ok) == nil, "\(ok)")
        }
        for (bad, why) in [("ftp://x", "must start with"), ("http://h:0/c", "port 0"), ("http://h:65536", "port 65536"),
                           ("http://h:x/c", "port x"), ("http://:80/c", "no host"), ("ws://[::1]x", "unexpected x"),
                           ("ws://[::1", "unclosed ["), ("http://h:-1/", "port -1")] {
            #expect(ClientURL.problem(bad)?.contains(why) == true, "\(bad): \(ClientURL.problem(bad) ?? "nil")")
        }
    }

    @Test func partsAreTakenApart() throws {
        let v6 = try ClientURL("wss://user@[::1]:8443/chsk?x=1#frag")
        #expect(v6.secure && v6.host == "::1" && v6.port == 8443 && v6.target == "/chsk?x=1")
        let bare = try ClientURL("http://localhost")
        #expect(!bare.secure && bare.host == "localhost" && bare.port == nil && bare.target == "/")
        let query = try ClientURL("ws://127.0.0.1:9?a=b")
        #expect(query.port == 9 && query.target == "/?a=b")
    }

    @Test func theTransportRefusesBeforeConnecting() async {
        let transport = NIOClientTransport()
        await #expect(throws: TransportError.self) {
            _ = try await transport.http(ClientHTTPRequest(method: "GET", url: "http://127.0.0.1:99999/chsk"), timeout: .seconds(1))
        }
        await #expect(throws: TransportError.self) {
            _ = try await transport.connectWebSocket(url: "ws://127.0.0.1:99999/chsk", headers: [:], maxMessageBytes: 1000)
        }
    }
}
