import FuzzSupport
import FuzzTransitRoundTrip
import Transit

/// Transit-json reader: the round trip of `FuzzTransitRoundTrip`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    onSmallStack {
        roundTrip(input, format: .json)
    }
    return 0
}

@_cdecl("FuzzTransitJSON_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
