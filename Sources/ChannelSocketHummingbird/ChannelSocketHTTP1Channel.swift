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
            let maxFrame = max(server.options.maxMessageBytes, 1 << 14)
            let limits = self.limits
            let refusal = NIOLoopBoundBox<HTTPReply?>(nil, eventLoop: channel.eventLoop)
            let guardHandler = NIOLoopBound(HTTPConnectionGuard(limits: limits, server: server), eventLoop: channel.eventLoop)
            let negotiation = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrame,
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
                    try sync.addHandler(WebSocketBackpressureHandler(limits: limits, server: server, label: request.params["client-id"] ?? "?"))
                    try sync.addHandler(WebSocketEngineHandler(server: server, request: request, maxFrameSize: maxFrame, limits: limits))
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
/// upgraded pipeline being only `WebSocketEngineHandler`: NIO's own upgrade would add its frame
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

/// One upgraded WebSocket on the event loop, reading and writing the frames itself (no NIO
/// frame decoder, encoder or cumulation buffer per connection): complete messages go to the
/// engine as they arrive (unmasked straight into the engine's bytes; fragmented messages
/// joined here, up to the message size limit); pings are answered here; a close frame is
/// answered and the channel closed; the channel's end is reported to the engine.
final class WebSocketEngineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: ChannelSocketServer
    let request: ConnectionRequest
    private var reader: WebSocketFrameReader
    /// Set on the event loop once the engine has registered the connection.
    private var connection: WebSocketConnection?
    /// Messages that arrived before that (the client may speak right after the upgrade).
    private var early: [[UInt8]] = []
    private var inactive = false
    private var sentClose = false
    /// After a protocol error nothing more is read.
    private var failed = false
    /// A fragmented message being joined (first frame's opcode was text or binary).
    private var fragments: [UInt8]?
    /// The first frame's opcode of the message being joined (1 text, 2 binary).
    private var fragmentOpcode: UInt8 = 0
    /// The client's close frame has been read: nothing after it is taken.
    private var receivedClose = false
    let limits: HTTPLimits

    init(server: ChannelSocketServer, request: ConnectionRequest, maxFrameSize: Int, limits: HTTPLimits = .init()) {
        self.server = server
        self.request = request
        self.limits = limits
        self.reader = WebSocketFrameReader(maxFrameSize: maxFrameSize, requireMasked: true)
    }

    private func outbound(_ context: ChannelHandlerContext) -> ChannelWebSocketOutbound {
        ChannelWebSocketOutbound(channel: context.channel, closeTimeout: limits.closeTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let outbound = self.outbound(context)
        let server = self.server, request = self.request
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let connection = await server.openWebSocket(request, outbound: outbound)
            eventLoop.execute { loopBound.value.registered(connection) }
        }
    }

    private func registered(_ connection: WebSocketConnection) {
        self.connection = connection
        for message in early { connection.receive(message) }
        early = []
        if inactive { Task { await connection.closed() } }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        // A frame's answer (a pong, a close, an inline reply) can make NIO read again before
        // it returns: a write that fails reads what the peer sent last. Such bytes wait here
        // until the frames in hand are done, in order.
        guard !reading else {
            reentered.append(bytes)
            return
        }
        reading = true
        defer { reading = false }
        var next: ByteBuffer? = bytes
        while let input = next, !failed, !receivedClose {
            do {
                try reader.read(input, allocator: context.channel.allocator) { frame in
                    if !failed { handle(frame, context: context) }
                }
            } catch {
                server.countRefusal(.wsProtocolError)
                fail(context: context, code: error.code, error.reason)
            }
            // One pong for the pings of everything just read, to the last of them (RFC 6455
            // §5.5.3 allows it): a ping flood costs one write per read, not one per ping. Its
            // flush may read again (see above).
            if let payload = pendingPong {
                pendingPong = nil
                let pong = WebSocketFrameOut.frame(opcode: 10, payload: payload, allocator: context.channel.allocator)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            }
            next = reentered.isEmpty ? nil : reentered.removeFirst()
        }
        reentered.removeAll()
    }

    /// In `channelRead` (see there), and the bytes read meanwhile.
    private var reading = false
    /// The payload of the last ping read and not answered yet.
    private var pendingPong: [UInt8]?
    private var reentered: [ByteBuffer] = []

    private func handle(_ frame: WebSocketFrameIn, context: ChannelHandlerContext) {
        guard !receivedClose else { return }   // nothing after a close counts (RFC 6455 §5.5.1)
        switch frame.opcode {
        case 0, 1, 2:
            let isContinuation = frame.opcode == 0
            guard isContinuation == (fragments != nil) else {
                // A continuation with nothing to continue, or a new message inside a fragmented one.
                fail(context: context, code: 1002, "fragmentation out of order")
                return
            }
            var bytes = frame.payload
            var opcode = frame.opcode
            if !frame.fin || isContinuation {
                if !isContinuation { fragmentOpcode = frame.opcode }
                opcode = fragmentOpcode
                fragments?.append(contentsOf: bytes) ?? (fragments = bytes)
                if fragments!.count > server.options.maxMessageBytes {
                    fragments = nil
                    fail(context: context, code: 1009, "fragmented message over \(server.options.maxMessageBytes) bytes")
                    return
                }
                guard frame.fin else { return }
                bytes = fragments!
                fragments = nil
            }
            // A text message must be UTF-8 (RFC 6455 §8.1): 1007, not a silent drop.
            if opcode == 1, !Self.isValidUTF8(bytes) {
                server.countRefusal(.invalidUTF8)
                fail(context: context, code: 1007, "text message is not valid UTF-8")
                return
            }
            if let connection { connection.receive(bytes) } else { early.append(bytes) }
        case 9:
            pendingPong = frame.payload
        case 8:
            // Answer the client's close with its code (or 1000), then hang up; a close frame
            // that breaks the rules (RFC 6455 §7.4) is answered with 1002 (1007 for a reason
            // that is not UTF-8).
            receivedClose = true
            let p = frame.payload
            var code: UInt16 = p.count >= 2 ? UInt16(p[0]) << 8 | UInt16(p[1]) : 1000
            if p.count == 1 || (p.count >= 2 && !Self.isValidCloseCode(code)) {
                server.countRefusal(.wsProtocolError)
                server.log(.info, "ws \(request.params["client-id"] ?? "?"): invalid close frame; closing (1002)")
                code = 1002
            } else if p.count > 2, !Self.isValidUTF8(Array(p[2...])) {
                server.countRefusal(.invalidUTF8)
                code = 1007
            }
            if !sentClose {
                sentClose = true
                outbound(context).close(code: code, reason: "")
            } else {
                context.close(promise: nil)
            }
        default:
            break   // pong
        }
    }

    private func fail(context: ChannelHandlerContext, code: UInt16, _ why: String) {
        failed = true
        fragments = nil
        server.log(.info, "ws \(request.params["client-id"] ?? "?"): \(why); closing (\(code))")
        guard !sentClose else { return }
        sentClose = true
        outbound(context).close(code: code, reason: "")
    }

    /// Close codes a peer may send (RFC 6455 §7.4.1-2): 1000-1003, 1007-1014, 3000-4999.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        (try? UTF8Span(validating: bytes.span)) != nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird's server allows half-closure: a client that went away shows up as
        // input closed, not as an inactive channel. A WebSocket has no use for a half-open
        // connection.
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        // Graceful shutdown: going away (1001); the close timeout drops a peer that does not
        // answer, and the shutdown timeout whatever is left.
        if event is ChannelShouldQuiesceEvent {
            let channel = context.channel
            channel.eventLoop.scheduleTask(in: TimeAmount(limits.shutdownTimeout)) { channel.close(promise: nil) }
            if !sentClose {
                sentClose = true
                outbound(context).close(code: 1001, reason: "server shutting down")
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        if let connection { Task { await connection.closed() } }
        context.fireChannelInactive()
    }
}

/// The engine's outbound side of one socket: frames written straight to the NIO channel
/// (from any thread; NIO keeps their order per calling thread and runs them on the loop).
struct ChannelWebSocketOutbound: WebSocketOutbound {
    let channel: any Channel
    /// After our close frame, how long the peer has to answer before the connection is dropped.
    var closeTimeout: Duration = .seconds(3)

    func write(_ message: [UInt8], binary: Bool) {
        channel.writeAndFlush(Self.frames.frame(message, binary: binary, allocator: channel.allocator), promise: nil)
    }

    /// One push batch goes to every socket of its uids as the same bytes: its frame is built
    /// once and shared (NIO only reads a buffer it writes), instead of copied per socket.
    static let frames = SharedFrameCache()

    func close(code: UInt16, reason: String) {
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8.prefix(123))
        let channel = self.channel
        channel.writeAndFlush(WebSocketFrameOut.frame(opcode: 8, payload: payload, allocator: channel.allocator)).whenComplete { _ in
            channel.close(promise: nil)
        }
        // A peer that reads nothing never lets the close frame out: drop it after the timeout.
        channel.eventLoop.scheduleTask(in: TimeAmount(closeTimeout)) { channel.close(promise: nil) }
    }
}

/// The last large frame built, kept with the message it was built from: a write of the same
/// message (the same array storage, as the engine hands one packed batch to every socket)
/// reuses it. The cache holds the message, so its storage cannot be freed and reused by
/// another message while it is compared against.
final class SharedFrameCache: Sendable {
    /// Smaller frames are cheaper to build than to look up.
    static let minimumBytes = 4096
    private let last = Mutex<(message: [UInt8], binary: Bool, frame: ByteBuffer)?>(nil)

    func frame(_ message: [UInt8], binary: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard message.count >= Self.minimumBytes else {
            return WebSocketFrameOut.frame(opcode: binary ? 2 : 1, payload: message, allocator: allocator)
        }
        let address = message.withUnsafeBufferPointer { $0.baseAddress }
        if let hit = last.withLock({ last -> ByteBuffer? in
            guard let last, last.binary == binary, last.message.count == message.count,
                  last.message.withUnsafeBufferPointer({ $0.baseAddress }) == address else { return nil }
            return last.frame
        }) {
            return hit
        }
        let frame = WebSocketFrameOut.frame(opcode: binary ? 2 : 1, payload: message, allocator: allocator)
        last.withLock { $0 = (message, binary, frame) }
        return frame
    }
}
