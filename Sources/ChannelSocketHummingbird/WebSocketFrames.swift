import NIOCore

/// One WebSocket frame as read from a client: payload already unmasked, as the engine's bytes.
struct WebSocketFrameIn: Equatable {
    /// The final fragment of a message.
    var fin: Bool
    /// The opcode (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong).
    var opcode: UInt8
    /// The payload, unmasked.
    var payload: [UInt8]
}

/// Why a client's bytes are not WebSocket frames we take (RFC 6455 §5): the close code to send.
struct WebSocketFrameError: Error, Equatable {
    /// 1002 (protocol error) or 1009 (frame too big).
    var code: UInt16
    /// What was wrong, for the log.
    var reason: String
}

/// Reads WebSocket frames (RFC 6455 §5.2) from the bytes a connection receives, however the
/// reads split them. A frame over `maxFrameSize` is refused as soon as its header is read
/// (1009), without waiting for its payload; reserved bits or opcodes, and control frames that
/// are fragmented or longer than 125 bytes, are protocol errors (1002). No extension is ever
/// negotiated, so no reserved bit may be set.
///
/// The bytes of a frame not yet complete are copied out of the read buffer, so NIO can reuse
/// its receive buffer for the next read; nothing is kept between frames.
struct WebSocketFrameReader {
    /// The largest payload of one frame.
    let maxFrameSize: Int
    /// An incomplete frame's bytes (ours, not NIO's read buffer).
    private var pending: ByteBuffer?

    init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    /// Whether bytes of an incomplete frame are held.
    var hasPendingBytes: Bool { pending != nil }

    /// Reads every complete frame of what was held plus `input`, in order, into `body`, and
    /// keeps the rest. After a thrown error the reader must not be used again.
    mutating func read(_ input: ByteBuffer, allocator: ByteBufferAllocator,
                       _ body: (WebSocketFrameIn) -> Void) throws(WebSocketFrameError) {
        var buffer: ByteBuffer
        let owned: Bool
        if var held = pending {
            pending = nil
            held.writeImmutableBuffer(input)
            buffer = held
            owned = true
        } else {
            buffer = input
            owned = false
        }
        while let frame = try Self.next(&buffer, maxFrameSize: maxFrameSize) {
            body(frame)
        }
        guard buffer.readableBytes > 0 else { return }
        if owned {
            pending = buffer
        } else {
            var copy = allocator.buffer(capacity: buffer.readableBytes)
            copy.writeImmutableBuffer(buffer)
            pending = copy
        }
    }

    /// The next complete frame at `buffer`'s reader index (which moves past it), or nil when
    /// the frame is not all there yet (the index does not move).
    static func next(_ buffer: inout ByteBuffer, maxFrameSize: Int) throws(WebSocketFrameError) -> WebSocketFrameIn? {
        let start = buffer.readerIndex
        let available = buffer.readableBytes
        guard available >= 2,
              let b0 = buffer.getInteger(at: start, as: UInt8.self),
              let b1 = buffer.getInteger(at: start + 1, as: UInt8.self) else { return nil }
        let fin = b0 & 0x80 != 0
        let opcode = b0 & 0x0F
        guard b0 & 0x70 == 0 else {
            throw WebSocketFrameError(code: 1002, reason: "reserved bits set without an extension")
        }
        switch opcode {
        case 0, 1, 2, 8, 9, 10: break
        default: throw WebSocketFrameError(code: 1002, reason: "reserved opcode \(opcode)")
        }
        var length = Int(b1 & 0x7F)
        var headerLength = 2
        if length == 126 {
            guard available >= 4, let l = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(l)
            headerLength = 4
        } else if length == 127 {
            guard available >= 10, let l = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard l <= UInt64(Int32.max) else {
                throw WebSocketFrameError(code: 1009, reason: "frame of \(l) bytes over the limit of \(maxFrameSize)")
            }
            length = Int(l)
            headerLength = 10
        }
        if opcode >= 8 {
            guard fin, length <= 125 else {
                throw WebSocketFrameError(code: 1002, reason: "control frame fragmented or over 125 bytes")
            }
        }
        guard length <= maxFrameSize else {
            throw WebSocketFrameError(code: 1009, reason: "frame of \(length) bytes over the limit of \(maxFrameSize)")
        }
        let masked = b1 & 0x80 != 0
        let payloadStart = headerLength + (masked ? 4 : 0)
        guard available >= payloadStart + length else { return nil }
        let payload = buffer.withUnsafeReadableBytes { raw -> [UInt8] in
            let src = UnsafeRawBufferPointer(rebasing: raw[payloadStart ..< payloadStart + length])
            guard masked else { return Array(src) }
            let key = raw.loadUnaligned(fromByteOffset: headerLength, as: UInt32.self)
            return unmask(src, key: key)
        }
        buffer.moveReaderIndex(forwardBy: payloadStart + length)
        return WebSocketFrameIn(fin: fin, opcode: opcode, payload: payload)
    }

    /// `src` XOR the 4-byte masking key (as the key's bytes lie in memory), eight bytes a step.
    static func unmask(_ src: UnsafeRawBufferPointer, key: UInt32) -> [UInt8] {
        let word = UInt64(key) | UInt64(key) << 32
        let n = src.count
        return [UInt8](unsafeUninitializedCapacity: n) { dst, initialized in
            if let s = src.baseAddress, let d = dst.baseAddress {
                let out = UnsafeMutableRawPointer(d)
                var i = 0
                while i &+ 8 <= n {
                    out.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ word, toByteOffset: i, as: UInt64.self)
                    i &+= 8
                }
                var rest = word >> (UInt64(i & 3) * 8)
                while i < n {
                    d[i] = s.load(fromByteOffset: i, as: UInt8.self) ^ UInt8(truncatingIfNeeded: rest)
                    rest >>= 8
                    i &+= 1
                }
            }
            initialized = n
        }
    }
}

/// Server frames (unmasked, RFC 6455 §5.2), written by the engine's outbound side.
enum WebSocketFrameOut {
    /// The largest header of an unmasked frame: 2 bytes + an 8-byte length. Outbound messages
    /// are allocated with this much room in front, so the header goes there.
    static let headerRoom = 10

    /// A buffer holding `payload` after `headerRoom` free bytes, ready for `seal`.
    static func buffer(_ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + headerRoom)
        buffer.moveWriterIndex(forwardBy: headerRoom)
        buffer.moveReaderIndex(forwardBy: headerRoom)
        buffer.writeBytes(payload)
        return buffer
    }

    /// Writes a final frame's header with `opcode` into the room in front of `buffer`'s
    /// readable bytes (the payload), and moves the reader index back onto it.
    static func seal(_ buffer: inout ByteBuffer, opcode: UInt8) {
        let length = buffer.readableBytes
        let headerLength = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10
        precondition(buffer.readerIndex >= headerLength, "no room for the frame header")
        let at = buffer.readerIndex - headerLength
        buffer.setInteger(0x80 | opcode, at: at)
        switch headerLength {
        case 2:
            buffer.setInteger(UInt8(length), at: at + 1)
        case 4:
            buffer.setInteger(UInt8(126), at: at + 1)
            buffer.setInteger(UInt16(length), at: at + 2)
        default:
            buffer.setInteger(UInt8(127), at: at + 1)
            buffer.setInteger(UInt64(length), at: at + 2)
        }
        buffer.moveReaderIndex(to: at)
    }

    /// A whole final frame.
    static func frame(opcode: UInt8, payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = self.buffer(payload, allocator: allocator)
        seal(&buffer, opcode: opcode)
        return buffer
    }
}
