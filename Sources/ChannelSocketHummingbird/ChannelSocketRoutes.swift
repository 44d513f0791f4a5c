public import ChannelSocket
import ChannelSocketNIO
import EDN
public import Hummingbird
public import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// Mounts a `ChannelSocketServer` on one path of a Hummingbird 2 application: `GET` is either a
/// WebSocket upgrade (decided in the upgrade router, only for requests with `Upgrade: websocket`)
/// or an Ajax long-poll; `POST` carries Ajax client events.
///
/// The recommended way into an existing app (its own router, context and `ServiceGroup`) is
/// `addHTTP(_:path:router:)` with `ChannelSocketHTTP1Channel.builder(server:path:)` as the
/// app's server and `ChannelSocketShutdownService` among its services: README, "Embedding in
/// a Hummingbird app". `add(_:path:router:webSocketRouter:)` is the alternative on
/// Hummingbird's own WebSocket upgrade (a task per socket, a refused upgrade answered 400):
///
/// ```swift
/// let router = Router(context: BasicWebSocketRequestContext.self)
/// let wsRouter = Router(context: BasicWebSocketRequestContext.self)
/// ChannelSocketRoutes.add(chsk, path: "/chsk", router: router, webSocketRouter: wsRouter)
/// let app = Application(router: router,
///                       server: .http1WebSocketUpgrade(webSocketRouter: wsRouter, configuration: ChannelSocketRoutes.serverConfiguration(for: chsk)))
/// ```
public enum ChannelSocketRoutes {
    /// The WebSocket server settings matching the channel socket's message limit.
    public static func serverConfiguration(for server: ChannelSocketServer) -> HTTP1WebSocketUpgradeChannel.Configuration {
        .init(ws: .init(maxFrameSize: ChannelSocketNIO.maxFrameSize(for: server)))
    }

    /// Adds the GET and POST handlers to `router` and the upgrade route to `webSocketRouter`.
    /// - Parameters:
    ///   - server: the protocol engine.
    ///   - path: the channel socket path (Sente's convention: `/chsk`).
    ///   - router: the application's HTTP router.
    ///   - webSocketRouter: the router given to `.http1WebSocketUpgrade(webSocketRouter:)`.
    public static func add<Context: WebSocketRequestContext & RequestContext>(
        _ server: ChannelSocketServer, path: String,
        router: Router<Context>, webSocketRouter: Router<Context>
    ) {
        webSocketRouter.ws(RouterPath(path)) { request, _ in
            // A refused upgrade falls through to the plain GET handler below, which answers
            // Sente's status and body (403 Bad CSRF token, …) as an ordinary HTTP response.
            server.check(connectionRequest(request, webSocket: true)) == nil ? .upgrade([:]) : .dontUpgrade
        } onUpgrade: { inbound, outbound, context in
            try await runWebSocket(server: server, request: connectionRequest(context.request, webSocket: true),
                                   inbound: inbound, outbound: outbound)
        }
        addHTTP(server, path: path, router: router)
    }

    /// Adds only the Ajax handlers (`GET` long-poll, `POST`) to `router`: for a server built
    /// with `ChannelSocketHTTP1Channel.builder(server:path:)`, which upgrades WebSockets on
    /// NIO channel handlers (the faster path `ChannelSocketApplication` uses).
    public static func addHTTP<Context: RequestContext>(_ server: ChannelSocketServer, path: String, router: Router<Context>) {
        let routePath = RouterPath(path)
        router.get(routePath) { request, _ -> Response in
            let connection = connectionRequest(request, webSocket: false)
            if let rejection = server.check(connection) { return response(rejection) }
            if request.headers[.upgrade]?.lowercased() == "websocket" {
                return response(.webSocketUpgradeFailed)
            }
            let reply = try await request.body.consumeWithCancellationOnInboundClose { _ in
                await cancelWhenGracefulShutdown { await server.poll(connection) }
            }
            // consumeWithCancellationOnInboundClose closes the connection after the response.
            return response(reply, close: true)
        }

        router.post(routePath) { request, _ -> Response in
            let connection = connectionRequest(request, webSocket: false)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: server.options.maxPostBodyBytes)
            } catch {
                return response(server.refusePostTooLarge())
            }
            let reply = await cancelWhenGracefulShutdown { await server.ajaxPost(connection, formBody: body.readableBytesView) }
            return response(reply)
        }
    }

    /// The engine's view of a Hummingbird request: query parameters (keys decoded too, so
    /// `handshake%3F` is `handshake?`) and lower-cased headers.
    /// HTTP/1's `Host` header, which HTTPTypes keeps as the `:authority` pseudo-header, is
    /// put back as `host`.
    public static func connectionRequest(_ request: Request, webSocket: Bool) -> ConnectionRequest {
        let host = request.head.authority.map { [("host", $0)] } ?? []
        return ConnectionRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                                 headerFields: host + request.headers.map { ($0.name.canonicalName, $0.value) }, isWebSocket: webSocket)
    }

    static func response(_ reply: HTTPReply, close: Bool = false) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentTypeOrText
        if close { headers[.connection] = "close" }
        return Response(status: .init(code: reply.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// Runs one upgraded WebSocket: the engine's writes go through a queue drained by one writer
    /// task (order kept), inbound messages go to the engine from this task.
    static func runWebSocket(server: ChannelSocketServer, request: ConnectionRequest,
                             inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: OutboundItem.self, bufferingPolicy: .unbounded)
        let queue = QueueOutbound(continuation: continuation, server: server, label: request.params["client-id"] ?? "?",
                                  limit: HTTPLimits().maxQueuedBytesPerWebSocket)
        let connection = await server.openWebSocket(request, outbound: queue)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in stream {
                        switch item {
                        case .text(let text):
                            try await outbound.write(.text(text))
                            queue.written(text.utf8.count)
                        case .binary(let bytes):
                            try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                            queue.written(bytes.count)
                        case .close(let code, let reason):
                            try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                            return
                        }
                    }
                }
                do {
                    for try await message in inbound.messages(maxSize: server.options.maxMessageBytes) {
                        switch message {
                        case .text(let text): connection.receive(Array(text.utf8))
                        case .binary(let buffer): connection.receive(Array(buffer: buffer))
                        }
                    }
                } catch {
                    queue.close(code: 1009, reason: "Message too big")
                    throw error
                }
                continuation.finish()
                group.cancelAll()
            }
        } catch {
            continuation.finish()
            await connection.closed()
            throw error
        }
        await connection.closed()
    }
}

enum OutboundItem: Sendable {
    case text(String)
    case binary([UInt8])
    case close(UInt16, String)
}

/// The engine's outbound side of one socket: enqueue only, never blocks the engine. The
/// queue is bounded in bytes (`limit`, `HTTPLimits.maxQueuedBytesPerWebSocket`): a write past
/// it closes the socket with 1008 and drops what is queued, logged and counted, so a client
/// that does not read cannot grow the server.
final class QueueOutbound: WebSocketOutbound {
    let continuation: AsyncStream<OutboundItem>.Continuation
    let server: ChannelSocketServer
    let label: String
    let limit: Int
    private let queued = Atomic<Int>(0)
    private let overflowed = Atomic<Bool>(false)

    init(continuation: AsyncStream<OutboundItem>.Continuation, server: ChannelSocketServer, label: String, limit: Int) {
        self.continuation = continuation
        self.server = server
        self.label = label
        self.limit = limit
    }

    func write(_ message: [UInt8], binary: Bool) {
        guard !overflowed.load(ordering: .acquiring) else { return }
        let total = queued.add(message.count, ordering: .relaxed).newValue
        if total > limit {
            guard !overflowed.exchange(true, ordering: .acquiringAndReleasing) else { return }
            server.log(.warning, "ws \(label): \(total) bytes waiting for a client that does not read (limit \(limit)); closed")
            server.countRefusal(.wsQueueFull)
            continuation.yield(.close(1008, "client does not read"))
            continuation.finish()
            return
        }
        continuation.yield(binary ? .binary(message) : .text(String(decoding: message, as: UTF8.self)))
    }

    /// The writer task wrote `count` bytes of the queue.
    func written(_ count: Int) {
        queued.subtract(count, ordering: .relaxed)
    }

    func close(code: UInt16, reason: String) {
        continuation.yield(.close(code, reason))
    }
}
