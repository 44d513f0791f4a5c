public import ChannelSocket
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
        .init(ws: .init(maxFrameSize: max(server.options.maxMessageBytes, 1 << 14)))
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
        let routePath = RouterPath(path)
        webSocketRouter.ws(routePath) { request, _ in
            // A refused upgrade falls through to the plain GET handler below, which answers
            // Sente's status and body (403 Bad CSRF token, …) as an ordinary HTTP response.
            server.check(connectionRequest(request, webSocket: true)) == nil ? .upgrade([:]) : .dontUpgrade
        } onUpgrade: { inbound, outbound, context in
            try await runWebSocket(server: server, request: connectionRequest(context.request, webSocket: true),
                                   inbound: inbound, outbound: outbound)
        }

        router.get(routePath) { request, _ -> Response in
            let connection = connectionRequest(request, webSocket: false)
            if let rejection = server.check(connection) { return response(rejection) }
            if request.headers[.upgrade]?.lowercased() == "websocket" {
                return response(HTTPReply(status: 400, text: "WebSocket upgrade failed"))
            }
            let reply = try await request.body.consumeWithCancellationOnInboundClose { _ in
                await cancelWhenGracefulShutdown { await server.poll(connection) }
            }
            // consumeWithCancellationOnInboundClose closes the connection after the response.
            return response(reply, close: true)
        }

        router.post(routePath) { request, _ -> Response in
            var connection = connectionRequest(request, webSocket: false)
            let limit = server.options.maxMessageBytes * 3 + 4096   // form encoding triples bytes at most
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch {
                return response(HTTPReply(status: 413, text: "Message too big (limit \(server.options.maxMessageBytes) bytes)"))
            }
            let form = FormDecoding.decode(String(buffer: body))
            for (k, v) in form { connection.params[k] = v }
            if let rejection = server.check(connection) { return response(rejection) }
            let request = connection
            let reply = await cancelWhenGracefulShutdown { await server.post(request) }
            return response(reply)
        }
    }

    /// The engine's view of a Hummingbird request: query parameters (keys decoded too, so
    /// `handshake%3F` is `handshake?`) and lower-cased headers.
    public static func connectionRequest(_ request: Request, webSocket: Bool) -> ConnectionRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] { headers[name] = existing + ", " + field.value } else { headers[name] = field.value }
        }
        return ConnectionRequest(method: request.method.rawValue, path: request.uri.path,
                                 params: FormDecoding.decode(request.uri.query ?? ""), headers: headers,
                                 isWebSocket: webSocket)
    }

    static func response(_ reply: HTTPReply, close: Bool = false) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType ?? "text/plain; charset=utf-8"
        if close { headers[.connection] = "close" }
        return Response(status: .init(code: reply.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// Runs one upgraded WebSocket. The engine's writes go into an `OutboundQueue`; after each
    /// inbound message this task writes what the message produced (replies from an inline
    /// handler) itself, so a request/reply costs no task switch, and a writer task sends
    /// whatever arrives in between (pushes, replies from other tasks), in order.
    static func runWebSocket(server: ChannelSocketServer, request: ConnectionRequest,
                             inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let queue = OutboundQueue()
        let connection = await server.openWebSocket(request, outbound: queue)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while await queue.waitForWork() {
                        if try await queue.drain(to: outbound) { return }
                    }
                }
                do {
                    for try await message in inbound.messages(maxSize: server.options.maxMessageBytes) {
                        switch message {
                        case .text(let text): connection.receive(Array(text.utf8))
                        case .binary(let buffer): connection.receive(Array(buffer: buffer))
                        }
                        if try await queue.drain(to: outbound) { break }
                    }
                } catch {
                    queue.close(code: 1009, reason: "Message too big")
                    throw error
                }
                queue.finish()
                group.cancelAll()
            }
        } catch {
            queue.finish()
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

/// The engine's outbound side of one socket: enqueue only, never blocks the engine. One
/// drainer at a time writes items in order.
final class OutboundQueue: WebSocketOutbound {
    struct State {
        var items: [OutboundItem] = []
        var draining = false
        var waiter: CheckedContinuation<Bool, Never>?
        var finished = false
    }
    let state = Mutex(State())

    func enqueue(_ item: OutboundItem) {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard !s.finished else { return nil }
            s.items.append(item)
            guard !s.draining, let w = s.waiter else { return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: true)
    }

    func write(_ message: [UInt8], binary: Bool) {
        enqueue(binary ? .binary(message) : .text(String(decoding: message, as: UTF8.self)))
    }

    func close(code: UInt16, reason: String) { enqueue(.close(code, reason)) }

    /// Ends the queue; a waiting writer returns false.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: false)
    }

    /// Suspends until there is something to write (true) or the queue finished (false).
    func waitForWork() async -> Bool {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> Bool? in
                if s.finished { return false }
                if !s.items.isEmpty && !s.draining { return true }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Writes everything queued, unless another task is already draining (it will take the
    /// rest). Returns true once a close was written.
    func drain(to outbound: WebSocketOutboundWriter) async throws -> Bool {
        var batch = state.withLock { s -> [OutboundItem] in
            guard !s.draining, !s.items.isEmpty else { return [] }
            s.draining = true
            defer { s.items = [] }
            return s.items
        }
        while !batch.isEmpty {
            for item in batch {
                switch item {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                case .close(let code, let reason):
                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                    state.withLock { $0.draining = false; $0.finished = true }
                    return true
                }
            }
            batch = state.withLock { s -> [OutboundItem] in
                if s.items.isEmpty {
                    s.draining = false
                    return []
                }
                defer { s.items = [] }
                return s.items
            }
        }
        // Items that arrived while draining and found the waiter busy: wake the writer.
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard !s.items.isEmpty, !s.draining, let w = s.waiter else { return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: true)
        return false
    }
}
