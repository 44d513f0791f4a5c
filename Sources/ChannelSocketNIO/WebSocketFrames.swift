import NIOCore

/// One WebSocket frame as read from a client: payload already unmasked, as the engine's bytes.
package struct WebSocketFrameIn: Equatable {
    /// The final fragment of a message.
    package var fin: Bool
    /// The opcode (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong).
    package var opcode: UInt8
    /// The payload, unmasked.
    package var payload: [UInt8]
}

/// Why a client's bytes are not WebSocket frames we take (RFC 6455 §5): the close code to send.
package struct WebSocketFrameError: Error, Equatable {
    /// 1002 (protocol error) or 1009 (frame too big).
    package var code: UInt16
    /// What was wrong, for the log.
    package var reason: String
}

/// Reads WebSocket frames (RFC 6455 §5.2) from the bytes a connection receives, however the
/// reads split them. A frame over `maxFrameSize` is refused as soon as its header is read
/// (1009), without waiting for its payload; reserved bits or opcodes, and control frames that
/// are fragmented or longer than 125 bytes, are protocol errors (1002). No extension is ever
/// negotiated, so no reserved bit may be set.
///
/// The bytes of a frame not yet complete are copied out of the read buffer, so NIO can reuse
/// its receive buffer for the next read; nothing is kept between frames. It reads a server's
/// unmasked frames as well (`chsk bench`'s lean client).
package struct WebSocketFrameReader {
    /// The largest payload of one frame.
    let maxFrameSize: Int
    /// A server's reader: every frame must be masked (RFC 6455 §5.1), else 1002.
    let requireMasked: Bool
    /// An incomplete frame's bytes (ours, not NIO's read buffer).
    private var pending: ByteBuffer?

    /// A reader; `requireMasked` for a server reading a client's frames.
    package init(maxFrameSize: Int, requireMasked: Bool = false) {
        self.maxFrameSize = maxFrameSize
        self.requireMasked = requireMasked
    }

    /// Whether bytes of an incomplete frame are held.
    var hasPendingBytes: Bool { pending != nil }

    /// Reads every complete frame of what was held plus `input`, in order, into `body`, and
    /// keeps the rest. After a thrown error the reader must not be used again.
    package mutating func read(_ input: ByteBuffer, allocator: ByteBufferAllocator,
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
        while let frame = try Self.next(&buffer, maxFrameSize: maxFrameSize, requireMasked: requireMasked) {
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
    static func next(_ buffer: inout ByteBuffer, maxFrameSize: Int, requireMasked: Bool = false) throws(WebSocketFrameError) -> WebSocketFrameIn? {
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
        if requireMasked && !masked {
            throw WebSocketFrameError(code: 1002, reason: "unmasked frame from a client")
        }
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
                var rest = word   // i is a multiple of 8 here, so the key starts over
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

/// Whole final frames (RFC 6455 §5.2): the header and the payload in one buffer, so a message
/// is one allocation and one iovec. A server's frames are unmasked; `chsk bench`'s lean client
/// passes a masking key.
package enum WebSocketFrameOut {
    package static func frame(opcode: UInt8, payload: [UInt8], mask key: [UInt8]? = nil,
                              allocator: ByteBufferAllocator) -> ByteBuffer {
        let n = payload.count
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        var buffer = allocator.buffer(capacity: n + 14)
        buffer.writeInteger(0x80 | opcode)
        if n <= 125 {
            buffer.writeInteger(maskBit | UInt8(n))
        } else if n <= 0xFFFF {
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(n))
        } else {
            buffer.writeInteger(maskBit | 127)
            buffer.writeInteger(UInt64(n))
        }
        if let key {
            buffer.writeBytes(key)
            buffer.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset & 3] })
        } else {
            buffer.writeBytes(payload)
        }
        return buffer
    }
}
