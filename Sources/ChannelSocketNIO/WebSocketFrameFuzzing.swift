import NIOCore

/// The WebSocket frame reader for the fuzz target in `Fuzz/` (issue 13), which as a separate
/// package cannot see the `package` API `WebSocketFrameReader`. Not for apps.
public enum WebSocketFrameFuzzing {
    /// One frame as `WebSocketFrameReader` read it: payload unmasked.
    public struct Frame: Equatable, Sendable {
        /// The final fragment of a message.
        public var fin: Bool
        /// The opcode.
        public var opcode: UInt8
        /// The payload, unmasked.
        public var payload: [UInt8]
    }

    /// What a reader made of some bytes.
    public struct Outcome: Equatable, Sendable {
        /// The frames read, in order.
        public var frames: [Frame]
        /// The close code of the error that stopped the reader (1002 or 1009), or nil.
        public var errorCode: UInt16?
        /// Whether the bytes of an incomplete frame are held at the end.
        public var pending: Bool
    }

    /// Feeds `bytes` to one `WebSocketFrameReader(maxFrameSize:requireMasked:)` as separate
    /// reads that end at each offset of `splits` (ascending, within the bytes) and at the end.
    public static func read(_ bytes: [UInt8], splits: [Int], maxFrameSize: Int, requireMasked: Bool) -> Outcome {
        var reader = WebSocketFrameReader(maxFrameSize: maxFrameSize, requireMasked: requireMasked)
        let allocator = ByteBufferAllocator()
        var outcome = Outcome(frames: [], errorCode: nil, pending: false)
        var start = 0
        for end in splits + [bytes.count] where end >= start && end <= bytes.count {
            let chunk = allocator.buffer(bytes: bytes[start..<end])
            start = end
            do {
                try reader.read(chunk, allocator: allocator) { frame in
                    outcome.frames.append(Frame(fin: frame.fin, opcode: frame.opcode, payload: frame.payload))
                }
            } catch {
                outcome.errorCode = error.code
                return outcome
            }
        }
        outcome.pending = reader.hasPendingBytes
        return outcome
    }
}
