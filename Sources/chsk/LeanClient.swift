import ChannelSocket
import ChannelSocketHummingbird
import ChannelSocketNIO
import EDN
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What the lean clients share: the refusal error, connecting, the end of an HTTP head, and
/// reading a v2 frame's value (the handshake or a batch of pushes).
enum Lean {
    /// The server refused the upgrade or the poll.
    struct Refused: Error, CustomStringConvertible {
        let what: String
        var description: String { "refused: \(what)" }
    }

    /// Connects a client made by `handler` (given the promise it completes on its handshake);
    /// the future completes when the handshake came.
    static func connect(host: String, port: Int, group: any EventLoopGroup,
                        handler: @escaping @Sendable (EventLoopPromise<Void>) -> any ChannelHandler) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        let opened = loop.makePromise(of: Void.self)
        return ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler(opened)) }
            }
            .connect(host: host, port: port)
            .flatMap { channel in opened.futureResult.map { channel } }
    }

    /// The `Host` header's value (an IPv6 literal in brackets).
    static func authority(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The index of the `\r\n\r\n` ending an HTTP head, if it is all there.
    static func headerEnd(_ view: ByteBufferView) -> Int? {
        var i = view.startIndex
        while i + 3 < view.endIndex {
            if view[i] == 13 && view[i + 1] == 10 && view[i + 2] == 13 && view[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// What a v2 frame `[value cb-id]` from the server holds.
    enum Frame {
        case handshake
        case events([EDNValue])
        case other(EDNValue)
    }

    static func frame(_ value: EDNValue) -> Frame? {
        guard case .vector(let frame) = value, let body = frame.first else { return nil }
        switch body {
        case .vector(let items) where items.first == .keyword(Reserved.handshake): return .handshake
        case .vector(let events): return .events(events)
        default: return .other(body)
        }
    }
}

/// The part of a lean client's handler both kinds share: the handshake promise, the bytes
/// received and not yet read, and the end of the connection failing the handshake.
class LeanClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let opened: EventLoopPromise<Void>
    let onEvent: @Sendable (EDNValue) -> Void
    var buffer: ByteBuffer?
    var handshook = false

    init(opened: EventLoopPromise<Void>, onEvent: @escaping @Sendable (EDNValue) -> Void) {
        self.opened = opened
        self.onEvent = onEvent
    }

    /// Takes a v2 frame from the server `[value cb-id]`: the handshake completes `opened`,
    /// a batch of pushes goes to `onEvent`; anything else is returned.
    func take(_ value: EDNValue) -> EDNValue? {
        switch Lean.frame(value) {
        case .handshake?:
            if !handshook {
                handshook = true
                opened.succeed(())
            }
        case .events(let events)?:
            for event in events { onEvent(event) }
        case .other(let body)?:
            return body
        case nil:
            break
        }
        return nil
    }

    func accumulate(_ incoming: ByteBuffer) {
        var incoming = incoming
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
    }

    // Declared here so that the subclasses' versions are what NIO calls.
    func channelActive(context: ChannelHandlerContext) { context.fireChannelActive() }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelInactive(context: ChannelHandlerContext) {
        opened.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        opened.fail(error)
        context.close(promise: nil)
    }
}

/// A minimal v2 Sente WebSocket client for `chsk bench fanout --client lean`: the upgrade,
/// the handshake frame, pushed batches handed to `onEvent`, and `[:chsk/ws-ping nil]` answered
/// with `[[:chsk/ws-pong] nil]`, all on one NIO event loop with no task per client. It
/// receives what a real client receives, at a fraction of the cost of a full
/// `ChannelSocketClient` (an actor, an event stream and a reader task each), so that on a
/// machine shared with the server the generator is not what is being measured.
final class LeanWebSocketClient: LeanClientHandler {
    private let host: String
    private let target: String
    private var upgraded = false
    /// The server's frames (unmasked), read as the server reads its clients'.
    private var reader = WebSocketFrameReader(maxFrameSize: 1 << 26)

    init(host: String, target: String, opened: EventLoopPromise<Void>, onEvent: @escaping @Sendable (EDNValue) -> Void) {
        self.host = host
        self.target = target
        super.init(opened: opened, onEvent: onEvent)
    }

    /// Connects and upgrades; the future completes when the server's handshake frame came.
    static func connect(host: String, port: Int, target: String, group: any EventLoopGroup,
                        onEvent: @escaping @Sendable (EDNValue) -> Void) -> EventLoopFuture<any Channel> {
        Lean.connect(host: host, port: port, group: group) { opened in
            LeanWebSocketClient(host: Lean.authority(host, port), target: target, opened: opened, onEvent: onEvent)
        }
    }

    override func channelActive(context: ChannelHandlerContext) {
        let request = "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    override func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if !upgraded {
            accumulate(bytes)
            guard let view = buffer?.readableBytesView, let end = Lean.headerEnd(view) else { return }
            let head = buffer!.readString(length: end - buffer!.readerIndex + 4) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                opened.fail(Lean.Refused(what: String(head.prefix(80))))
                context.close(promise: nil)
                return
            }
            upgraded = true
            bytes = buffer!
            buffer = nil
        }
        // The frames first, then the answers: an answer's write can make NIO read again.
        var frames: [WebSocketFrameIn] = []
        do {
            try reader.read(bytes, allocator: context.channel.allocator) { frames.append($0) }
        } catch {
            context.close(promise: nil)
            return
        }
        for frame in frames {
            switch frame.opcode {
            case 1, 2:
                // v2 frames are [value cb-id]: the handshake, a batch of pushes, or a server ping.
                if let value = try? EDNReader.read(frame.payload), take(value) == .keyword(Reserved.wsPing) {
                    send(opcode: 1, Array("[[:chsk/ws-pong] nil]".utf8), context: context)
                }
            case 9:
                send(opcode: 10, frame.payload, context: context)
            case 8:
                context.close(promise: nil)
                return
            default:
                break
            }
        }
    }

    /// A masked client frame (the mask is fixed: this is a load generator).
    private func send(opcode: UInt8, _ payload: [UInt8], context: ChannelHandlerContext) {
        let frame = WebSocketFrameOut.frame(opcode: opcode, payload: payload, mask: [0x37, 0xFA, 0x21, 0x3D],
                                            allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}

/// A minimal v2 Sente Ajax client for `chsk bench ajax --client lean`: one keep-alive HTTP/1.1
/// connection that sends the handshake poll, then a new long-poll as soon as each answer came,
/// handing pushed batches to `onEvent` (`:chsk/timeout` answers are just polled again). Like
/// `LeanWebSocketClient` it costs a fraction of a full client, so that on a machine shared with
/// the server the generator is not what is being measured. Responses must carry a
/// `Content-Length` (Sente's and chsk's do); anything else, or a status other than 200, ends
/// the client.
final class LeanAjaxClient: LeanClientHandler {
    private let target: String
    private let headers: String

    init(host: String, target: String, csrfToken: String?, opened: EventLoopPromise<Void>, onEvent: @escaping @Sendable (EDNValue) -> Void) {
        self.target = target
        self.headers = "Host: \(host)\r\n" + (csrfToken.map { "X-CSRF-Token: \($0)\r\n" } ?? "") + "\r\n"
        super.init(opened: opened, onEvent: onEvent)
    }

    /// Connects and polls; the future completes when the handshake answer came.
    static func connect(host: String, port: Int, target: String, csrfToken: String?, group: any EventLoopGroup,
                        onEvent: @escaping @Sendable (EDNValue) -> Void) -> EventLoopFuture<any Channel> {
        Lean.connect(host: host, port: port, group: group) { opened in
            LeanAjaxClient(host: Lean.authority(host, port), target: target, csrfToken: csrfToken, opened: opened, onEvent: onEvent)
        }
    }

    override func channelActive(context: ChannelHandlerContext) {
        poll(context: context)
        context.fireChannelActive()
    }

    private func poll(context: ChannelHandlerContext) {
        let query = target + "&udt=\(Int(Date().timeIntervalSince1970 * 1000))" + (handshook ? "" : "&handshake%3F=1")
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "GET \(query) HTTP/1.1\r\n" + headers)), promise: nil)
    }

    override func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        accumulate(unwrapInboundIn(data))
        while let (status, body) = nextResponse() {
            guard status == 200 else {
                opened.fail(Lean.Refused(what: "poll answered \(status)"))
                context.close(promise: nil)
                return
            }
            if let value = try? EDNReader.read(body) { _ = take(value) }   // :chsk/timeout: just poll again
            poll(context: context)
        }
        if buffer?.readableBytes == 0 { buffer = nil }
    }

    /// The next complete response's status and body, if one is all there.
    private func nextResponse() -> (Int, [UInt8])? {
        guard var b = buffer, let end = Lean.headerEnd(b.readableBytesView),
              let head = b.getString(at: b.readerIndex, length: end - b.readerIndex) else { return nil }
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        let bodyStart = end + 4
        guard b.writerIndex - bodyStart >= length else { return nil }
        b.moveReaderIndex(to: bodyStart)
        let body = b.readBytes(length: length) ?? []
        buffer = b
        return (status, body)
    }

}
