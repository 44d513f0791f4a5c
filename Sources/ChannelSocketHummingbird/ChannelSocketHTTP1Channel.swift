public import ChannelSocket
import EDN
public import HummingbirdCore
public import Logging
public import NIOCore
import HTTPTypes
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ChannelSocketNIO
import Synchronization

/// HTTP/1.1 for a Hummingbird application with the channel socket's WebSocket upgrade done
/// on SwiftNIO channel handlers: an upgraded connection has no tasks and no async sequences
/// of its own; frames go from the event loop straight into the engine
/// (`WebSocketConnection.receive`) and the engine's writes go straight to the channel.
/// Ajax long-polls are served on the event loop too (`AjaxPollHandler`: keep-alive, hang-ups
/// seen at once). Everything else (Ajax POSTs, refused upgrades, the app's own routes) is
/// Hummingbird's ordinary HTTP handling with the application's router.
///
/// A refused upgrade (CSRF, origin, authorization, missing client id) is answered with Sente's
/// status and body (`403 Bad CSRF token`, …) and the connection closed; with Hummingbird's own
/// WebSocket channel it could only be a bare 400.
public struct ChannelSocketHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    /// What the HTTP/1 upgrade negotiation ended in.
    public enum UpgradeResult: Sendable {
        /// Upgraded; the WebSocket is served by the pipeline's handler until it closes.
        case webSocket
        /// Plain HTTP, for Hummingbird's responder.
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request the engine refused: answered with this reply, then closed. (After
        /// an upgrade request NIO's HTTP decoder cannot go on with the connection as HTTP, so
        /// it is not handed to the router.)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPReply)
    }

    /// The negotiation's outcome and the child channel.
    public struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    /// Hummingbird's HTTP responder (the application's router).
    public let responder: HTTPChannelHandler.Responder
    let server: ChannelSocketServer
    let path: String
    let http1: HTTP1Channel.Configuration
    /// Timeouts, header limits, the WebSocket outbound bound and the shutdown deadline.
    public let limits: HTTPLimits

    /// A child channel serving `server` on `path`, and `responder` for all other HTTP. An
    /// `http1.idleTimeout`, if set, must be longer than the long-poll timeout: a held poll does
    /// not count as activity for Hummingbird's idle timer. `limits` bounds every phase of every
    /// connection (its header limits replace `http1.httpDecoder`'s).
    public init(responder: @escaping HTTPChannelHandler.Responder, server: ChannelSocketServer, path: String,
                http1: HTTP1Channel.Configuration = .init(), limits: HTTPLimits = .init()) {
        self.responder = responder
        self.server = server
        self.path = path
        self.http1 = http1
        self.limits = limits
    }

    /// A server builder for `Application(router:server:)`.
    public static func builder(server: ChannelSocketServer, path: String, http1: HTTP1Channel.Configuration = .init(),
                               limits: HTTPLimits = .init()) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            ChannelSocketHTTP1Channel(responder: responder, server: server, path: path, http1: http1, limits: limits)
        }
    }

    /// Receive buffer sizes: from 256 bytes, doubling up to 64 KB while reads fill them.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let server = self.server
            let path = self.path
            let limits = self.limits
            let refusal = NIOLoopBoundBox<HTTPReply?>(nil, eventLoop: channel.eventLoop)
            let guardHandler = NIOLoopBound(HTTPConnectionGuard(limits: limits, server: server), eventLoop: channel.eventLoop)
            let negotiation = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: ChannelSocketNIO.maxFrameSize(for: server),
                shouldUpgrade: { channel, head in
                    let request = Self.connectionRequest(head)
                    if request.path != path {
                        refusal.value = HTTPReply(status: 404, text: "Not found")
                    } else if let rejection = server.check(request) {
                        refusal.value = rejection
                    } else {
                        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                    }
                    return channel.eventLoop.makeSucceededFuture(nil)
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeSucceededFuture(UpgradeResult.webSocket)   // not called: see below
                }
            )
            let upgrader = RawWebSocketUpgrader(negotiation: negotiation) { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // The HTTP phase timers end here; the WebSocket's own bounds take over.
                    sync.removeHandler(guardHandler.value, promise: nil)
                    let request = Self.connectionRequest(head, connected: true, retained: server.options.retainedRequestHeaders)
                    try ChannelSocketNIO.addWebSocketHandlers(to: sync, server: server, request: request, limits: limits.webSocket)
                    return UpgradeResult.webSocket
                }
            }
            let http1 = self.http1
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if refusal.value == nil {
                            // Long-polls on the event loop, with keep-alive; the rest goes on.
                            try sync.addHandler(AjaxPollHandler(server: server, path: path))
                        }
                        try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try sync.addHandlers(http1.additionalChannelHandlers())
                        try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let reply = refusal.value { return UpgradeResult.refused(asyncChannel, reply) }
                        return UpgradeResult.notUpgraded(asyncChannel)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: upgradeConfiguration)
            configuration.enablePipelining = false   // NIOAsyncChannel handles HTTP pipelining
            configuration.enableErrorHandling = false   // Hummingbird handles parse errors
            configuration.enableResponseHeaderValidation = false   // HTTPTypes validates
            configuration.decoderConfiguration.maxHeaderFieldSize = limits.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = limits.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = limits.maxHeaderFieldCount
            // NIO keeps each connection's receive buffer for reuse, for the connection's life, at
            // the size of its largest read so far. Its default first size (2 KB) is most of an idle
            // WebSocket's memory; requests and Sente events are far smaller, and the buffer still
            // doubles on every read that fills it.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // Right after the request decoder, ahead of the upgrade handler: it sees every
            // request part and every response part, and the decoder's errors.
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
            try channel.pipeline.syncOperations.addHandler(guardHandler.value, position: .before(upgradeHandler))
            return Value(upgradeResult: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let reply):
                try await http.executeThenClose { _, outbound in
                    var fields: HTTPFields = [.connection: "close", .contentLength: String(reply.body.count)]
                    fields[.contentType] = reply.contentType ?? "text/plain; charset=utf-8"
                    try await outbound.write(.head(HTTPResponse(status: .init(code: reply.status), headerFields: fields)))
                    try await outbound.write(.body(ByteBuffer(bytes: reply.body)))
                    try await outbound.write(.end(nil))
                }
            case .webSocket:
                // The pipeline serves it from here on: no task waits for it (3.8 KB per idle
                // connection). Graceful shutdown waits for the closes in the engine instead.
                break
            }
        } catch {
            logger.debug("connection ended during the HTTP/1 upgrade negotiation: \(error)")
        }
    }

    /// The engine's view of an upgrade request head. The request a WebSocket keeps for its
    /// life (`connected`) leaves out the headers that only served the upgrade itself
    /// (`Upgrade`, `Connection`, `Sec-WebSocket-Key`, `-Version`, `-Extensions`) and keeps only
    /// `retained` ones when given (`ChannelSocketServerOptions.retainedRequestHeaders`): one
    /// request is held per connection, and headers are most of its memory.
    static func connectionRequest(_ head: HTTPRequestHead, connected: Bool = false, retained: Set<String>? = nil) -> ConnectionRequest {
        let (path, query) = ConnectionRequest.splitTarget(head.uri)
        return ConnectionRequest(
            method: head.method.rawValue, path: path, query: query,
            headerFields: head.headers.lazy.filter { !connected || ConnectionRequest.keepsHeader($0.name, retained: retained) }
                .map { ($0.name, $0.value) },
            isWebSocket: true)
    }
}

/// NIO's WebSocket upgrade negotiation (header checks, `Sec-WebSocket-Accept`), with the
/// upgraded pipeline being only the engine's handlers (`ChannelSocketNIO`): NIO's own upgrade would add its frame
/// encoder and a cumulating frame decoder to every connection.
struct RawWebSocketUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = ChannelSocketHTTP1Channel.UpgradeResult
    let negotiation: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    let pipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    var supportedProtocol: String { negotiation.supportedProtocol }
    var requiredUpgradeHeaders: [String] { negotiation.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead,
                              initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        negotiation.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        pipeline(channel, upgradeRequest)
    }
}
