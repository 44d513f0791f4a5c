import EDN
import FuzzSupport

/// EDN reader: any input reads or throws an `EDNReadError`. What reads prints, and the print
/// reads back to an equal value (and prints the same again).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    onSmallStack {
        // All values of the input, as a stream (`chsk pack`) does.
        var reader = EDNReader(input)
        var values: [EDNValue] = []
        do {
            while let v = try reader.next() { values.append(v) }
        } catch {
            _ = String(describing: error)
        }
        for value in values {
            let printed = EDNPrinter.bytes(value)
            let again: EDNValue
            do { again = try EDNReader.read(printed) } catch {
                finding("printed EDN does not read back: \(error)\nprinted: \(String(decoding: printed, as: UTF8.self))")
            }
            guard again == value else {
                finding("EDN round trip differs\nprinted: \(String(decoding: printed, as: UTF8.self))\nagain: \(EDNPrinter.string(again))")
            }
            let printedAgain = EDNPrinter.bytes(again)
            guard printedAgain == printed else {
                finding("EDN prints differently after a round trip\n1: \(String(decoding: printed, as: UTF8.self))\n2: \(String(decoding: printedAgain, as: UTF8.self))")
            }
            _ = EDNPrinter.pretty(value, width: 40)
        }
    }
    return 0
}

@_cdecl("FuzzEDN_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
