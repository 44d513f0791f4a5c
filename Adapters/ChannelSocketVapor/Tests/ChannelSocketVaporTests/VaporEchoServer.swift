import ChannelSocket
import ChannelSocketVapor
import EDN
import Foundation
import Synchronization
import Vapor

/// A Vapor 4 app on a free loopback port in this process, run the way `vapor serve` runs it
/// (`Application.execute`), with a channel socket on `/chsk` running the reference echo app
/// (`EchoApp`), and the echo app's HTTP routes of the recordings (`/push`, `/connected`),
/// guarded like `chsk serve`'s. Stopped by `stop()`, which shuts the app down as a signal
/// would (`running.stop()`, then `asyncShutdown()`).
final class VaporEchoServer: Sendable {
    let app: Application
    let server: ChannelSocketServer
    let port: Int
    private let runTask: Task<Void, any Error>
    private let echoTask: Task<Void, Never>
    private let stopped = Mutex(false)

    var url: String { "http://127.0.0.1:\(port)/chsk" }

    init(wire: WireOption = .auto, csrfToken: String? = nil, maxMessageBytes: Int = 1 << 20,
         longPollTimeout: Duration = .seconds(20), wsKeepAlive: Duration = .seconds(25),
         packer: any Packer = EDNPacker(), allowWebSocket: Bool = true,
         configuration: ChannelSocketVaporConfiguration = .init(hangUpCheckInterval: .milliseconds(200))) async throws {
        var options = ChannelSocketServerOptions(
            userID: { $0.params["uid"].map(EDNValue.string) },
            handshakeData: EchoApp.handshakeData(serverName: "chsk/vapor"),
            csrf: csrfToken.map(CSRFCheck.token) ?? .disabled,
            wire: wire, packer: packer, wsKeepAlive: wsKeepAlive, longPollTimeout: longPollTimeout, maxMessageBytes: maxMessageBytes)
        options.allowWebSocket = allowWebSocket
        let server = try ChannelSocketServer(options: options)
        self.server = server
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor", "serve", "--hostname", "127.0.0.1", "--port", "0"]))
        app.logger.logLevel = .warning
        app.channelSocket(server, at: "chsk", configuration: configuration)
        Self.addEchoRoutes(app, server: server)
        self.app = app
        echoTask = Task { await EchoApp(server: server).run() }
        runTask = Task { try await app.execute() }
        let deadline = Date().addingTimeInterval(30)
        var bound: Int?
        while bound == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            if runTask.isCancelled { break }
            bound = app.http.server.shared.localAddress?.port
        }
        guard let bound else { throw Failure.notListening }
        port = bound
    }

    enum Failure: Error { case notListening }

    /// Runs `body` with a server started with these settings, and stops the server after it
    /// (also when it throws: an app not shut down is a crash in Vapor's debug builds).
    static func with(wire: WireOption = .auto, csrfToken: String? = nil, maxMessageBytes: Int = 1 << 20,
                     longPollTimeout: Duration = .seconds(20), wsKeepAlive: Duration = .seconds(25),
                     packer: any Packer = EDNPacker(), allowWebSocket: Bool = true,
                     configuration: ChannelSocketVaporConfiguration = .init(hangUpCheckInterval: .milliseconds(200)),
                     _ body: (VaporEchoServer) async throws -> Void) async throws {
        let server = try await VaporEchoServer(wire: wire, csrfToken: csrfToken, maxMessageBytes: maxMessageBytes,
                                               longPollTimeout: longPollTimeout, wsKeepAlive: wsKeepAlive,
                                               packer: packer, allowWebSocket: allowWebSocket, configuration: configuration)
        do { try await body(server) } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// `GET /push?uid=U&ev=<edn>` and `GET /connected`, guarded by `checkAppRoute` (the CSRF
    /// token when one is set; no cross-site browser request), as `chsk serve --echo` has them.
    static func addEchoRoutes(_ app: Application, server: ChannelSocketServer) {
        app.get("push") { request async -> Response in
            if let refused = server.checkAppRoute(VaporChannelSocket.connectionRequest(request, webSocket: false)) {
                return VaporChannelSocket.response(refused)
            }
            let query = FormDecoding.decode(ConnectionRequest.splitTarget(request.url.string).query ?? "")
            guard let uid = query["uid"], let text = query["ev"], let value = try? EDNReader.read(text),
                  let event = Event(validating: value), !event.isReserved
            else { return VaporChannelSocket.response(HTTPReply(status: 400, text: "usage: /push?uid=U&ev=<edn event>")) }
            do {
                let reached = try await server.send(event, to: .string(uid))
                return VaporChannelSocket.response(HTTPReply(status: 200, text: "pushed to \(reached) client(s)"))
            } catch {
                return VaporChannelSocket.response(HTTPReply(status: 400, text: "refused: \(error)"))
            }
        }
        app.get("connected") { request async -> Response in
            if let refused = server.checkAppRoute(VaporChannelSocket.connectionRequest(request, webSocket: false)) {
                return VaporChannelSocket.response(refused)
            }
            let connected = await server.connectedUIDs.description
            return VaporChannelSocket.response(HTTPReply(status: 200, body: Array(connected.utf8),
                                                         contentType: "application/edn"))
        }
    }

    /// Shuts the app down as a signal does: the engine first (held polls answered, WebSockets
    /// closed with 1001), then Vapor's HTTP server.
    func stop() async {
        guard !stopped.withLock({ s in defer { s = true }; return s }) else { return }
        app.running?.stop()
        _ = await runTask.result
        try? await app.asyncShutdown()
        echoTask.cancel()
    }
}
