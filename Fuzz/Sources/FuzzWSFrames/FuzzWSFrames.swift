import ChannelSocketNIO
import FuzzSupport

/// WebSocket frame reader (RFC 6455 §5.2). The first two bytes choose a split point, the
/// frame size limit and whether frames must be masked; the rest is what a client sends. Any
/// error must be 1002 or 1009, and reading the bytes in one read, in two reads split at the
/// chosen point, or (for short inputs) a byte at a time must give the same frames, error and
/// leftover.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let b0 = Int(data[0]), b1 = Int(data[1])
    let stream = bytes(data + 2, size - 2)
    let requireMasked = b0 & 1 == 1
    let maxFrameSize = [125, 126, 1000, 65535, 65536, 1 << 20][(b0 >> 1) % 6]
    let split = stream.isEmpty ? 0 : (b1 << 8 | (b0 & 0xF0)) % (stream.count + 1)
    let whole = WebSocketFrameFuzzing.read(stream, splits: [], maxFrameSize: maxFrameSize, requireMasked: requireMasked)
    if let code = whole.errorCode, code != 1002, code != 1009 {
        finding("close code \(code) for a bad frame")
    }
    let two = WebSocketFrameFuzzing.read(stream, splits: [split], maxFrameSize: maxFrameSize, requireMasked: requireMasked)
    guard two == whole else {
        finding("split at \(split) of \(stream.count) reads differently:\nwhole: \(whole)\nsplit: \(two)")
    }
    if stream.count <= 256 {
        let single = WebSocketFrameFuzzing.read(stream, splits: Array(0..<stream.count), maxFrameSize: maxFrameSize,
                                                requireMasked: requireMasked)
        guard single == whole else {
            finding("a byte at a time reads differently:\nwhole: \(whole)\nbytes: \(single)")
        }
    }
    return 0
}

@_cdecl("FuzzWSFrames_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
