public import ChannelSocket
import CoreMetrics
public import NIOCore
import Synchronization

/// A channel socket's WebSocket on a SwiftNIO channel, for any HTTP server built on NIO: after
/// the server's upgrade negotiation (`Sec-WebSocket-Accept`), `addWebSocketHandlers` makes the
/// channel's pipeline the engine's WebSocket, with every bound of `chsk serve`'s: frames read
/// and written here (no NIO frame decoder or cumulation buffer), RFC 6455 checks (masked client
/// frames, `1002` for protocol errors, `1007` for text that is not UTF-8, `1009` past the
/// message size limit, valid close codes), one pong per read for a ping flood, TCP
/// backpressure and a bounded write queue (`1008` for a client that does not read), close
/// and shutdown timeouts. The Hummingbird adapter (`ChannelSocketHTTP1Channel`) and the Vapor
/// adapter (`ChannelSocketVapor`) both use it.
public enum ChannelSocketNIO {
    /// Adds the engine's WebSocket handlers to a channel whose upgrade is done (the HTTP
    /// handlers removed): `request` is the upgrade request as the engine saw it in
    /// `ChannelSocketServer.check`. The engine registers the connection at once; bytes that
    /// arrive before are kept in order.
    public static func addWebSocketHandlers(to pipeline: ChannelPipeline.SynchronousOperations, server: ChannelSocketServer,
                                            request: ConnectionRequest, limits: WebSocketLimits = .init()) throws {
        try pipeline.addHandler(WebSocketBackpressureHandler(limits: limits, server: server, label: request.params["client-id"] ?? "?"))
        try pipeline.addHandler(WebSocketEngineHandler(server: server, request: request, maxFrameSize: maxFrameSize(for: server),
                                                       limits: limits))
    }

    /// The largest WebSocket frame `server` reads: its message size limit, but at least 16 KiB
    /// (a smaller message limit is still checked per message). Upgrade negotiations that take a
    /// frame size use this one too.
    public static func maxFrameSize(for server: ChannelSocketServer) -> Int {
        max(server.options.maxMessageBytes, 1 << 14)
    }
}

/// The bounds of one WebSocket on NIO (see `ChannelSocketNIO`).
public struct WebSocketLimits: Sendable, Equatable {
    /// Bytes that may wait to be written to one WebSocket (frames the peer has not read yet).
    /// A write past it closes the socket at once (the queue is dropped, the close logged and
    /// counted as `RefusalReason.wsQueueFull`): a client that does not read cannot grow the
    /// server. Default 4 MiB. While more than NIO's write-buffer high-water mark (64 KiB)
    /// waits, nothing more is read from that client (TCP backpressure).
    public var maxQueuedBytesPerWebSocket: Int
    /// How long a WebSocket may stay unwritable (its peer reads nothing) before it is closed
    /// with `1008` (`RefusalReason.wsWriteStalled`). Default 10 s.
    public var writeStallTimeout: Duration
    /// After the server sends a close frame, how long it waits for the peer's close before it
    /// drops the connection. Default 3 s.
    public var closeTimeout: Duration
    /// After a graceful shutdown asks the socket to close (`1001`), how long before it is
    /// dropped. Default 5 s.
    public var shutdownTimeout: Duration

    /// The defaults (see each property).
    public init(maxQueuedBytesPerWebSocket: Int = 4 << 20, writeStallTimeout: Duration = .seconds(10),
                closeTimeout: Duration = .seconds(3), shutdownTimeout: Duration = .seconds(5)) {
        self.maxQueuedBytesPerWebSocket = maxQueuedBytesPerWebSocket
        self.writeStallTimeout = writeStallTimeout
        self.closeTimeout = closeTimeout
        self.shutdownTimeout = shutdownTimeout
    }
}

/// Bounds what waits to be written to one WebSocket, and applies TCP backpressure to its
/// reads. It sits at the head of an upgraded pipeline, so every frame (pushes, replies, pongs,
/// closes) passes it.
///
/// - While the channel is not writable (more than the write-buffer high-water mark waits),
///   reads are held: the client's own sends back up in TCP instead of in our memory.
/// - A write that would take the queue past `maxQueuedBytesPerWebSocket` closes the socket at
///   once (the queue is dropped), with a log line and a count.
/// - A socket unwritable for `writeStallTimeout` is closed with `1008`.
final class WebSocketBackpressureHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: WebSocketLimits
    private let server: ChannelSocketServer
    private let label: String
    private var readPending = false
    private var stallTimer: Scheduled<Void>?
    private var aborted = false

    init(limits: WebSocketLimits, server: ChannelSocketServer, label: String) {
        self.limits = limits
        self.server = server
        self.label = label
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !aborted else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let size = unwrapOutboundIn(data).readableBytes
        let buffered = (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
        if buffered + size > limits.maxQueuedBytesPerWebSocket {
            aborted = true
            server.log(.warning, "ws \(label): \(buffered + size) bytes waiting for a client that does not read (limit \(limits.maxQueuedBytesPerWebSocket)); closed")
            server.countRefusal(.wsQueueFull)
            promise?.fail(ChannelError.outputClosed)
            context.close(promise: nil)
            return
        }
        if server.metrics.isEnabled {
            // Queued until NIO has handed the bytes to the kernel (or failed).
            let meter = server.metrics.wsOutboundQueuedBytes
            meter.increment(by: Double(size))
            let done = promise ?? context.eventLoop.makePromise()
            done.futureResult.whenComplete { _ in meter.decrement(by: Double(size)) }
            context.write(data, promise: done)
            return
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
            if readPending {
                readPending = false
                context.read()
            }
        } else if stallTimer == nil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            stallTimer = context.eventLoop.scheduleTask(in: TimeAmount(limits.writeStallTimeout)) {
                let (handler, context) = loopBound.value
                handler.stallTimer = nil
                handler.stalled(context: context)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func stalled(context: ChannelHandlerContext) {
        guard !context.channel.isWritable, !aborted else { return }
        aborted = true
        server.log(.warning, "ws \(label): client read nothing for \(limits.writeStallTimeout); closed (1008)")
        server.countRefusal(.wsWriteStalled)
        // The close frame goes out only if there is room; the connection ends either way.
        let frame = WebSocketFrameOut.frame(opcode: 8, payload: [0x03, 0xF0] + Array("write stalled".utf8), allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stallTimer?.cancel()
        stallTimer = nil
        context.fireChannelInactive()
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
    let limits: WebSocketLimits

    init(server: ChannelSocketServer, request: ConnectionRequest, maxFrameSize: Int, limits: WebSocketLimits = .init()) {
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
                server.countRefusal(error.code == 1009 ? .messageTooLarge : .wsProtocolError)
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
                server.countRefusal(.wsProtocolError)
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
                    server.countRefusal(.messageTooLarge)
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
