public import ChannelSocket
import ChannelSocketNIO
public import NIOCore
public import Vapor

/// The Vapor adapter's settings: the bounds it adds to the engine's.
public struct ChannelSocketVaporConfiguration: Sendable {
    /// Bytes that may wait to be written to one WebSocket (frames the peer has not read yet).
    /// A write past it closes the socket at once, logged and counted
    /// (`RefusalReason.wsQueueFull`): a client that does not read cannot grow the server.
    /// Default 4 MiB, as the Hummingbird adapter's `HTTPLimits.maxQueuedBytesPerWebSocket`.
    public var maxQueuedBytesPerWebSocket: Int
    /// How long a WebSocket may stay unwritable (its peer reads nothing) before it is closed
    /// with `1008` (`RefusalReason.wsWriteStalled`). Default 10 s.
    public var writeStallTimeout: Duration
    /// How often a held long-poll checks that its client is still connected. Vapor tells a
    /// handler nothing when a client hangs up, so a held poll writes an empty chunk at this
    /// interval (after committing to `200`); a failed write withdraws the poll
    /// (`cancelPoll`), so a push waits for the client's next poll instead of going to a dead
    /// socket. A push that comes within this interval after a hang-up is lost as it would be
    /// on any server that cannot see the hang-up. Default 1 s.
    public var hangUpCheckInterval: TimeAmount
    /// After the server sends a WebSocket close frame, how long it waits for the peer's close
    /// before it drops the connection. Default 3 s.
    public var closeTimeout: Duration
    /// How long a graceful shutdown (`Application.asyncShutdown`) waits for the WebSockets to
    /// report their `1001` closes. Default 5 s.
    public var shutdownTimeout: Duration

    /// The defaults (see each property).
    public init(maxQueuedBytesPerWebSocket: Int = 4 << 20, writeStallTimeout: Duration = .seconds(10),
                hangUpCheckInterval: TimeAmount = .seconds(1),
                closeTimeout: Duration = .seconds(3), shutdownTimeout: Duration = .seconds(5)) {
        self.maxQueuedBytesPerWebSocket = maxQueuedBytesPerWebSocket
        self.writeStallTimeout = writeStallTimeout
        self.hangUpCheckInterval = hangUpCheckInterval
        self.closeTimeout = closeTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    /// The WebSocket bounds among these.
    var webSocketLimits: WebSocketLimits {
        WebSocketLimits(maxQueuedBytesPerWebSocket: maxQueuedBytesPerWebSocket, writeStallTimeout: writeStallTimeout,
                        closeTimeout: closeTimeout, shutdownTimeout: shutdownTimeout)
    }
}

extension Application {
    /// Mounts a channel socket on `path` of this app: `GET` with `Upgrade: websocket` opens a
    /// WebSocket, any other `GET` is an Ajax long-poll, `POST` carries Ajax client events.
    /// Also:
    /// - turns off HTTP/1 pipelining (`http.server.configuration.supportPipelining`): with
    ///   it on, Vapor stops reading a connection while a response is pending, so the hang-up
    ///   of a client whose poll is held would never be seen;
    /// - shuts the engine down first when the app shuts down (held polls answered with
    ///   `:chsk/timeout`, WebSockets closed with `1001`), so Vapor's HTTP server does not wait
    ///   on held polls.
    ///
    /// ```swift
    /// let app = try await Application.make(.detect())
    /// let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
    /// app.channelSocket(chsk, at: "chsk")
    /// Task { for await message in chsk.events { message.reply("ok") } }
    /// try await app.execute()
    /// ```
    public func channelSocket(_ server: ChannelSocketServer, at path: PathComponent...,
                              configuration: ChannelSocketVaporConfiguration = .init()) {
        http.server.configuration.supportPipelining = false
        if let idle = http.server.configuration.idleTimeout {
            let needed = max(server.options.longPollTimeout, server.options.wsKeepAlive + server.options.wsPingTimeout)
            if Duration.nanoseconds(idle.nanoseconds) <= needed {
                server.log(.warning, "Vapor's idleTimeout (\(idle)) is not longer than a held long-poll or a WebSocket keep-alive window (\(needed)): it will close them")
            }
        }
        lifecycle.use(ChannelSocketLifecycle(server: server, timeout: configuration.shutdownTimeout))
        routes.channelSocket(server, at: path, configuration: configuration)
    }
}

extension RoutesBuilder {
    /// Adds the channel socket's `GET` (WebSocket or Ajax long-poll) and `POST` routes on
    /// `path` (in a route group, its middleware applies). Prefer
    /// `Application.channelSocket(_:at:configuration:)`, which also turns off HTTP/1
    /// pipelining (needed to see the hang-up of a client whose poll is held) and shuts the
    /// engine down with the app; with this one, do both yourself.
    public func channelSocket(_ server: ChannelSocketServer, at path: PathComponent...,
                              configuration: ChannelSocketVaporConfiguration = .init()) {
        channelSocket(server, at: path, configuration: configuration)
    }

    /// `channelSocket(_:at:configuration:)` with the path as an array.
    public func channelSocket(_ server: ChannelSocketServer, at path: [PathComponent],
                              configuration: ChannelSocketVaporConfiguration = .init()) {
        on(.GET, path, body: .collect) { request async throws -> Response in
            try await VaporChannelSocket.get(request, server: server, configuration: configuration)
        }
        on(.POST, path, body: .stream) { request async throws -> Response in
            await VaporChannelSocket.post(request, server: server)
        }
    }
}

/// Shuts the engine down before Vapor's HTTP server stops: Vapor runs lifecycle handlers'
/// `shutdown` first, then quiesces its server, which waits for responses in progress (held
/// polls) up to its own `shutdownTimeout`.
struct ChannelSocketLifecycle: LifecycleHandler {
    let server: ChannelSocketServer
    let timeout: Duration

    func shutdownAsync(_ application: Application) async {
        await server.shutdown(waitingForCloses: timeout)
    }
}

/// The request handlers: the framework-neutral work is the engine's (`check`,
/// `openWebSocket`, `startPoll`, `ajaxPost`); this only moves bytes.
public enum VaporChannelSocket {
    /// The engine's view of a Vapor request: query parameters decoded (keys too), header
    /// names lower-cased, the peer's address for logs.
    public static func connectionRequest(_ request: Request, webSocket: Bool) -> ConnectionRequest {
        let (path, query) = ConnectionRequest.splitTarget(request.url.string)
        return ConnectionRequest(method: request.method.rawValue, path: path, query: query,
                                 headerFields: request.headers.map { ($0.name, $0.value) }, isWebSocket: webSocket,
                                 remoteAddress: request.remoteAddress?.description)
    }

    /// A Vapor response for an engine reply.
    public static func response(_ reply: HTTPReply) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: reply.contentTypeOrText)
        return Response(status: HTTPResponseStatus(statusCode: reply.status), headers: headers,
                        body: .init(buffer: ByteBuffer(bytes: reply.body)))
    }

    static func get(_ request: Request, server: ChannelSocketServer, configuration: ChannelSocketVaporConfiguration) async throws -> Response {
        let wantsWebSocket = request.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        let connection = connectionRequest(request, webSocket: wantsWebSocket)
        // A refused upgrade is answered like a refused poll: Sente's status and body (and the
        // connection then closed, see `refusedUpgrade`).
        if let rejection = server.check(connection) { return wantsWebSocket ? refusedUpgrade(rejection) : response(rejection) }
        if wantsWebSocket {
            return webSocket(request, connection: connection, server: server, configuration: configuration)
        }
        return try await VaporLongPoll(server: server, request: connection, eventLoop: request.eventLoop,
                                       interval: configuration.hangUpCheckInterval).start().get()
    }

    /// The answer to a refused WebSocket upgrade: the engine's status and body, then the
    /// connection closed. Vapor's HTTP/1 decoder stops parsing a connection once it has read an
    /// upgrade request (it expects the WebSocket handlers to replace it), so after a refusal
    /// the connection could carry no other request: a client that reused it (a keep-alive
    /// pool, as AsyncHTTPClient's) would wait forever for its next answer. The body is
    /// streamed so that the connection can be ended after it (a failed stream closes it);
    /// `Connection: close` says so to the client (Vapor adds its own `Connection: keep-alive`
    /// header after it; HTTP reads the two as `close, keep-alive`, and `close` wins).
    static func refusedUpgrade(_ reply: HTTPReply) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: reply.contentTypeOrText)
        headers.add(name: .connection, value: "close")
        let body = reply.body
        return Response(status: HTTPResponseStatus(statusCode: reply.status), headers: headers,
                        body: .init(stream: { writer in
                            writer.write(.buffer(ByteBuffer(bytes: body))).whenComplete { _ in
                                writer.write(.error(UpgradeRefused()), promise: nil)
                            }
                        }, count: body.count))
    }

    /// Ends the connection of a refused upgrade (see `refusedUpgrade`).
    struct UpgradeRefused: Error {}

    static func post(_ request: Request, server: ChannelSocketServer) async -> Response {
        let limit = server.options.maxPostBodyBytes
        if let declared = request.headers.first(name: .contentLength).flatMap(Int.init), declared > limit {
            return response(server.refusePostTooLarge(declared))
        }
        let body: ByteBuffer?
        do {
            body = try await request.body.collect(max: limit).get()
        } catch {
            return response(server.refusePostTooLarge())
        }
        if let body, body.readableBytes > limit { return response(server.refusePostTooLarge(body.readableBytes)) }
        let reply = await server.ajaxPost(connectionRequest(request, webSocket: false),
                                          formBody: body?.readableBytesView ?? ByteBuffer().readableBytesView)
        return response(reply)
    }
}
