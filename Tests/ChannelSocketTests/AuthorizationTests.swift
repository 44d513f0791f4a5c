import ChannelSocket
import EDN
import Logging
import Synchronization
import Testing

/// The user id from a cookie, a header or a Ring-style session, and the authorization hooks
/// of Sente (`:authorized?-fn`, `:unauthorized-fn`, `:?unauthorized-fn`, `:reject-fn`): their
/// replies, and that every refusal is logged and counted.
@Suite struct AuthorizationTests {
    /// Keeps the engine's warning lines.
    final class Lines: LogHandler, Sendable {
        let lines = Mutex<[String]>([])
        var logLevel: Logger.Level { get { .debug } set {} }
        var metadata: Logger.Metadata { get { [:] } set {} }
        subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { nil } set {} }
        func log(event: LogEvent) {
            if event.level >= .warning { lines.withLock { $0.append("\(event.message)") } }
        }
    }

    static func request(_ params: [String: String] = [:], headers: [String: String] = [:], ws: Bool = false,
                        method: String = "GET") -> ConnectionRequest {
        ConnectionRequest(method: method, path: "/chsk", params: ["client-id": "c1"].merging(params) { $1 },
                          headers: headers, isWebSocket: ws)
    }

    @Test func cookieValues() {
        let r = Self.request(headers: ["Cookie": "theme=dark; uid=\"al%20ice\"; ring-session=abc+1;uid=second"])
        #expect(r.cookie("uid") == "al ice")
        #expect(r.cookie("theme") == "dark")
        #expect(r.cookie("ring-session") == "abc 1")
        #expect(r.cookie("the") == nil)
        #expect(Self.request().cookie("uid") == nil)
    }

    @Test func userIDSources() {
        let r = Self.request(["uid": "p"], headers: ["X-User": "h", "Cookie": "uid=c; ring-session=k1"])
        #expect(UserIDSource.param("uid").userID(r) == "p")
        #expect(UserIDSource.header("x-user").userID(r) == "h")
        #expect(UserIDSource.cookie("uid").userID(r) == "c")
        #expect(UserIDSource.cookie("nope").userID(r) == nil)
        let sessions: [String: EDNValue] = ["k1": [.kw("uid"): .kw("alice"), .kw("role"): "admin"], "k2": [.kw("role"): "guest"]]
        let session = UserIDSource.session(store: { sessions[$0] })
        #expect(session.userID(r) == .kw("alice"))
        #expect(session.userID(Self.request(headers: ["Cookie": "ring-session=k2"])) == nil)
        #expect(session.userID(Self.request(headers: ["Cookie": "ring-session=gone"])) == nil)
        #expect(UserIDSource.session(key: .kw("role"), store: { sessions[$0] }).userID(r) == "admin")
    }

    /// A cookie's uid is the uid of the handshake (Ajax) and of the events the client sends.
    @Test func cookieUIDReachesTheHandshakeAndEvents() async throws {
        let server = try ChannelSocketServer(options: .init(userID: UserIDSource.cookie("uid").userID,
                                                            longPollTimeout: .milliseconds(500)))
        let first = Self.request(["handshake?": "1"], headers: ["Cookie": "uid=alice"])
        #expect(server.check(first) == nil)
        let reply = await server.poll(first)
        #expect(reply.status == 200)
        #expect(reply.bodyText.contains("[:chsk/handshake [\"alice\""), "\(reply.bodyText)")
    }

    @Test func refusalsWithTheHooksRepliesAreLoggedAndCounted() throws {
        let lines = Lines()
        var options = ChannelSocketServerOptions(userID: UserIDSource.cookie("uid").userID)
        options.authorize = { $0.cookie("uid") != nil }
        options.unauthorized = { _ in HTTPReply(status: 403, text: "Log in first") }
        options.authorization = { $0.cookie("uid") == "mallory" ? HTTPReply(status: 451, body: Array("{\"error\":\"banned\"}".utf8), contentType: "application/json") : nil }
        options.reject = { $0.params["flood"] != nil ? HTTPReply(status: 429, text: "slow down") : nil }
        let server = try ChannelSocketServer(options: options, logger: Logger(label: "t", factory: { _ in lines }))

        for ws in [true, false] {
            for method in ws ? ["GET"] : ["GET", "POST"] {
                #expect(server.check(Self.request(ws: ws, method: method)) == HTTPReply(status: 403, text: "Log in first"))
                let banned = server.check(Self.request(headers: ["Cookie": "uid=mallory"], ws: ws, method: method))
                #expect(banned?.status == 451)
                #expect(banned?.bodyText == "{\"error\":\"banned\"}")
                #expect(banned?.contentType == "application/json")
                #expect(server.check(Self.request(headers: ["Cookie": "uid=alice"], ws: ws, method: method)) == nil)
                #expect(server.check(Self.request(["flood": "1"], headers: ["Cookie": "uid=alice"], ws: ws, method: method))?.status == 429)
            }
        }
        #expect(server.refusalCounts[.unauthorized] == 6)
        #expect(server.refusalCounts[.rejected] == 3)
        let logged = lines.lines.withLock { $0 }
        #expect(logged.count == 9, "\(logged)")
        #expect(logged.filter { $0.contains("403") }.count == 3)
        #expect(logged.contains { $0.hasPrefix("ws c1: 451") })
        #expect(logged.contains { $0.hasPrefix("POST c1: 429") })
    }

    /// The old API: `authorize` alone still answers 401 `Unauthorized request`.
    @Test func authorizeAloneKeepsSentesDefault() throws {
        let server = try ChannelSocketServer(options: .init(authorize: { _ in false }))
        #expect(server.check(Self.request(ws: true)) == HTTPReply(status: 401, text: "Unauthorized request"))
        #expect(server.refusalCounts[.unauthorized] == 1)
    }
}
