import EDN
import FuzzSupport

/// EDN reader: any input reads or throws an `EDNReadError`. What reads prints, and the print
/// reads back to an equal value (and prints the same again). The byte decoder
/// (`EDNDecoder().decode(EDNValue.self, from: bytes)`, the typed path) reads exactly what
/// `EDNReader.read` reads, or refuses it with the same kind of error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    onSmallStack {
        // The byte decoder against the tree reader.
        let tree = Result { () throws(EDNReadError) in try EDNReader.read(input) }
        let direct = Result { try EDNDecoder().decode(EDNValue.self, from: input) }
        switch (tree, direct) {
        case (.success(let a), .success(let b)):
            guard a == b, EDNPrinter.bytes(a) == EDNPrinter.bytes(b) else {
                finding("the byte decoder reads another value\ntree: \(EDNPrinter.string(a))\nbytes: \(EDNPrinter.string(b))")
            }
        case (.failure(let a), .failure(let b)):
            guard let b = b as? EDNReadError, a.kind == b.kind else { finding("the byte decoder fails otherwise\ntree: \(a)\nbytes: \(b)") }
        default:
            finding("the byte decoder and the tree reader disagree\ntree: \(tree)\nbytes: \(direct)")
        }
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
