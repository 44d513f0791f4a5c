import ChannelSocket
@testable import ChannelSocketHummingbird
@testable import ChannelSocketNIO
import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

/// The server's own WebSocket frame reading and writing (no NIO frame codec on a connection).
@Suite struct WebSocketFrameTests {
    /// A client frame: masked with `key` unless nil.
    static func clientFrame(fin: Bool = true, opcode: UInt8, _ payload: [UInt8], key: [UInt8]? = [0x37, 0xfa, 0x21, 0x3d],
                            rsv: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        if payload.count <= 125 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            out += (0 ..< 8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard let key else { return out + payload }
        return out + key + payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
    }

    static func readAll(_ chunks: [[UInt8]], max: Int = 1 << 20) throws(WebSocketFrameError) -> ([WebSocketFrameIn], Bool) {
        var reader = WebSocketFrameReader(maxFrameSize: max)
        var frames: [WebSocketFrameIn] = []
        for chunk in chunks {
            try reader.read(ByteBuffer(bytes: chunk), allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        return (frames, reader.hasPendingBytes)
    }

    /// Text (7-bit, 16-bit and 64-bit lengths, odd sizes for the unmasking tail), a fragmented
    /// message around a ping, an unmasked frame, a close: the same frames whatever the reads'
    /// split, at every split point into two reads and one byte per read.
    @Test func framesSurviveEverySplit() throws {
        let long = (0 ..< 70_001).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let mid = Array(String(repeating: "[:my/ev {:n 1}]", count: 20).utf8)
        let stream = Self.clientFrame(opcode: 1, Array("[[:chsk/ws-ping] \"cb1\"]".utf8))
            + Self.clientFrame(opcode: 1, mid)
            + Self.clientFrame(fin: false, opcode: 1, Array("[[:a".utf8))
            + Self.clientFrame(opcode: 9, Array("ping!".utf8))
            + Self.clientFrame(opcode: 0, Array(" 1]]".utf8))
            + Self.clientFrame(opcode: 2, [], key: nil)
            + Self.clientFrame(opcode: 2, long)
            + Self.clientFrame(opcode: 8, [0x03, 0xe8])
        let expected: [WebSocketFrameIn] = [
            .init(fin: true, opcode: 1, payload: Array("[[:chsk/ws-ping] \"cb1\"]".utf8)),
            .init(fin: true, opcode: 1, payload: mid),
            .init(fin: false, opcode: 1, payload: Array("[[:a".utf8)),
            .init(fin: true, opcode: 9, payload: Array("ping!".utf8)),
            .init(fin: true, opcode: 0, payload: Array(" 1]]".utf8)),
            .init(fin: true, opcode: 2, payload: []),
            .init(fin: true, opcode: 2, payload: long),
            .init(fin: true, opcode: 8, payload: [0x03, 0xe8]),
        ]
        let whole = try Self.readAll([stream])
        #expect(whole.0 == expected)
        #expect(!whole.1)
        // Every split point in the first 400 bytes and around the long frame's header.
        let longStart = stream.count - long.count - 14 - 8
        for cut in Array(1 ..< 400) + Array(longStart - 3 ... longStart + 20) {
            let (frames, pending) = try Self.readAll([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(frames == expected, "split at \(cut)")
            #expect(!pending)
        }
        let bytewise = try Self.readAll(stream.prefix(600).map { [$0] } + [Array(stream.dropFirst(600))])
        #expect(bytewise.0 == expected)
        // An incomplete frame is held, and nothing is reported for it.
        let partial = try Self.readAll([Array(stream.prefix(stream.count - 1))])
        #expect(partial.0 == Array(expected.dropLast()))
        #expect(partial.1)
    }

    @Test func badFramesAreRefusedWithTheirCloseCode() {
        func code(_ bytes: [UInt8], max: Int = 1000) -> UInt16? {
            do { _ = try Self.readAll([bytes], max: max); return nil } catch { return error.code }
        }
        #expect(code(Self.clientFrame(opcode: 3, [1])) == 1002)                   // reserved opcode
        #expect(code(Self.clientFrame(opcode: 0xB, [])) == 1002)
        #expect(code(Self.clientFrame(opcode: 1, [1], rsv: 0x40)) == 1002)        // RSV1 without an extension
        #expect(code(Self.clientFrame(fin: false, opcode: 9, [])) == 1002)        // fragmented control frame
        #expect(code(Self.clientFrame(opcode: 8, Array(repeating: 1, count: 126))) == 1002)
        // Over the limit: refused from the header alone, before any payload arrives.
        #expect(code(Array(Self.clientFrame(opcode: 1, Array(repeating: 65, count: 1001)).prefix(8))) == 1009)
        #expect(code([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]) == 1009)            // a 2^63-byte length
        #expect(code(Self.clientFrame(opcode: 1, Array(repeating: 65, count: 1000))) == nil)
    }

    @Test func serverFramesHaveTheRightHeader() {
        for (n, header) in [(0, [0x81, 0]), (125, [0x81, 125]), (126, [0x81, 126, 0, 126]), (65_535, [0x81, 126, 0xFF, 0xFF]),
                            (65_536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])] as [(Int, [UInt8])] {
            let payload = [UInt8](repeating: 0x61, count: n)
            let frame = WebSocketFrameOut.frame(opcode: 1, payload: payload, allocator: ByteBufferAllocator())
            #expect(Array(frame.readableBytesView) == header + payload, "payload of \(n)")
        }
        let close = WebSocketFrameOut.frame(opcode: 8, payload: [0x03, 0xe9], allocator: ByteBufferAllocator())
        #expect(Array(close.readableBytesView) == [0x88, 2, 0x03, 0xe9])
    }
}

/// An outbound handler that, on the flushes of the first pongs, makes the pipeline read again
/// at once, as NIO does when a write fails (it reads what the peer sent before the reset).
final class ReadOnFlush: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private var reads: [ByteBuffer]
    private var pongWritten = false

    init(_ reads: [[UInt8]]) { self.reads = reads.map { ByteBuffer(bytes: $0) } }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if unwrapOutboundIn(data).readableBytesView.first == 0x8A { pongWritten = true }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        if pongWritten, !reads.isEmpty {
            pongWritten = false
            context.fireChannelRead(NIOAny(reads.removeFirst()))
        }
    }
}

@Suite struct WebSocketEngineHandlerTests {
    /// Bytes that arrive while the handler is still answering a frame (here: a read fired from
    /// inside the flush of its pong) are read after the frames in hand, in order: two pings
    /// read that way get their pongs in order. Reading them at once was a "simultaneous
    /// access" trap (found by fuzzing `chsk serve` with frames on connections being reset).
    /// Pings read together get one pong, to the last of them (RFC 6455 §5.5.3).
    @Test func aReadDuringItsOwnAnswerWaitsItsTurn() async throws {
        let channel = NIOAsyncTestingChannel()
        let ping = { @Sendable (text: String) in WebSocketFrameTests.clientFrame(opcode: 9, Array(text.utf8)) }
        let server = try ChannelSocketServer()
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(ReadOnFlush([ping("two"), ping("three")]))
            let request = ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "e"], isWebSocket: true)
            try channel.pipeline.syncOperations.addHandler(WebSocketEngineHandler(server: server, request: request, maxFrameSize: 1000))
        }
        try await channel.writeInbound(ByteBuffer(bytes: ping("one") + ping("four")))
        var pongs: [[UInt8]] = []
        while let out = try await channel.readOutbound(as: ByteBuffer.self) {
            // The engine's handshake frame may come too.
            if out.readableBytesView.first == 0x8A { pongs.append(Array(out.readableBytesView)) }
        }
        #expect(pongs == ["four", "two", "three"].map { [0x8A, UInt8($0.utf8.count)] + Array($0.utf8) })
        _ = try? await channel.finish()
    }
}

extension WebSocketEngineHandlerTests {
    /// Each refusal is counted under its reason: a frame over the size limit and a fragmented
    /// message that grows past it are `messageTooLarge` (closed 1009), an unmasked client frame
    /// a `wsProtocolError` (closed 1002).
    @Test(arguments: ["frame", "fragments", "unmasked"])
    func refusalsAreCountedByReason(_ kind: String) async throws {
        let channel = NIOAsyncTestingChannel()
        let server = try ChannelSocketServer(options: .init(maxMessageBytes: 100))
        try await channel.testingEventLoop.executeInContext {
            let request = ConnectionRequest(method: "GET", path: "/chsk", params: ["client-id": "e"], isWebSocket: true)
            try channel.pipeline.syncOperations.addHandler(WebSocketEngineHandler(server: server, request: request, maxFrameSize: 100))
        }
        let bytes: [UInt8]
        switch kind {
        case "frame": bytes = WebSocketFrameTests.clientFrame(opcode: 1, Array(repeating: 65, count: 101))
        case "fragments": bytes = WebSocketFrameTests.clientFrame(fin: false, opcode: 1, Array(repeating: 65, count: 60))
            + WebSocketFrameTests.clientFrame(opcode: 0, Array(repeating: 65, count: 60))
        default: bytes = [0x81, 0x02, 0x41, 0x42]
        }
        try await channel.writeInbound(ByteBuffer(bytes: bytes))
        var closeCode: UInt16?
        while let out = try await channel.readOutbound(as: ByteBuffer.self) {
            let view = Array(out.readableBytesView)
            if view.first == 0x88, view.count >= 4 { closeCode = UInt16(view[2]) << 8 | UInt16(view[3]) }
        }
        #expect(closeCode == (kind == "unmasked" ? 1002 : 1009))
        #expect(server.refusalCounts[kind == "unmasked" ? .wsProtocolError : .messageTooLarge] == 1)
        _ = try? await channel.finish()
    }
}

@Suite struct RetainedRequestTests {
    /// A WebSocket keeps only the request headers an app needs for its life (cookie, origin,
    /// …), not a client's 30 KB of others; the upgrade check still saw them all.
    @Test func aWebSocketKeepsOnlyTheRetainedHeaders() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1")
        headers.add(name: "Cookie", value: "ring-session=abc")
        headers.add(name: "Origin", value: "http://example.test")
        headers.add(name: "X-Junk", value: String(repeating: "j", count: 30_000))
        headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/chsk?client-id=c1&uid=u", headers: headers)
        let checked = ChannelSocketHTTP1Channel.connectionRequest(head)
        #expect(checked.header("x-junk")?.count == 30_000)
        let kept = ChannelSocketHTTP1Channel.connectionRequest(head, connected: true,
                                                               retained: ChannelSocketServerOptions().retainedRequestHeaders)
        #expect(kept.header("cookie") == "ring-session=abc")
        #expect(kept.header("origin") == "http://example.test")
        #expect(kept.header("host") == "127.0.0.1")
        #expect(kept.header("x-junk") == nil)
        #expect(kept.header("sec-websocket-key") == nil)
        #expect(kept.params["client-id"] == "c1")
        let all = ChannelSocketHTTP1Channel.connectionRequest(head, connected: true, retained: nil)
        #expect(all.header("x-junk") != nil && all.header("sec-websocket-key") == nil)
    }
}

@Suite struct RouteQueueTests {
    /// The HummingbirdWebSocket route's outbound queue is bounded: past the limit the socket
    /// is closed with 1008, nothing more is queued, and the refusal is counted.
    @Test func theRouteQueueClosesAClientThatDoesNotRead() async throws {
        let server = try ChannelSocketServer()
        let (stream, continuation) = AsyncStream.makeStream(of: OutboundItem.self)
        let queue = QueueOutbound(continuation: continuation, server: server, label: "t", limit: 10_000)
        for _ in 0..<5 { queue.write(Array(repeating: 65, count: 3_000), binary: false) }
        queue.written(3_000)   // the writer got one message out
        queue.write([66], binary: false)
        var texts = 0, closes: [UInt16] = []
        for await item in stream {
            switch item {
            case .text: texts += 1
            case .binary: break
            case .close(let code, _): closes.append(code)
            }
        }
        #expect(texts == 3)
        #expect(closes == [1008])
        #expect(server.refusalCounts[.wsQueueFull] == 1)
    }
}

@Suite struct SharedFrameCacheTests {
    /// One packed batch written to many sockets is framed once; any other message (even an
    /// equal one in other storage, or the same one changed) gets a frame of its own bytes.
    @Test func aBatchIsFramedOnceAndOtherMessagesAreNot() {
        let cache = SharedFrameCache()
        let allocator = ByteBufferAllocator()
        let batch = [UInt8](repeating: 65, count: 10_000)
        let first = cache.frame(batch, binary: false, allocator: allocator)
        let again = cache.frame(batch, binary: false, allocator: allocator)
        #expect(first == again)
        #expect(first.withUnsafeReadableBytes { $0.baseAddress } == again.withUnsafeReadableBytes { $0.baseAddress })
        var changed = batch
        changed[0] = 66
        let other = cache.frame(changed, binary: false, allocator: allocator)
        #expect(other.getInteger(at: 4, as: UInt8.self) == 66)   // 2-byte header + 2-byte length
        let copy = Array(batch[...])
        let fresh = cache.frame(copy, binary: true, allocator: allocator)
        #expect(fresh.getInteger(at: 0, as: UInt8.self) == 0x82)
        #expect(Array(fresh.readableBytesView.dropFirst(4)) == batch)
        #expect(cache.frame([1, 2, 3], binary: false, allocator: allocator) == WebSocketFrameOut.frame(opcode: 1, payload: [1, 2, 3], allocator: allocator))
    }
}
