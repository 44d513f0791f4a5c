import EDN
import FuzzSupport
import Transit

/// Reads what the writer wrote. Known, not a finding (see Fuzz/README.md): a map with
/// composite keys is written as `["~#cmap", [...]]`, two levels where a native msgpack map
/// (or a verbose-JSON one) was one, so a value near the reader's depth bound can write
/// deeper than the bound; such output is read again with twice the bound.
public func reRead(_ written: [UInt8], format: TransitFormat) throws(TransitError) -> EDNValue {
    do { return try TransitReader(format: format).read(written) } catch where error.kind == .tooDeep {
        let deeper = TransitReader.Options(maxDepth: 2 * TransitReader.Options.defaultMaxDepth + 2)
        return try TransitReader(format: format, options: deeper).read(written)
    }
}

/// The Transit targets' check (one for both formats): any input reads or throws a
/// `TransitError`; what reads writes (in the same format, with the write cache on), and that
/// reads back to an equal value.
public func roundTrip(_ input: [UInt8], format: TransitFormat) {
    let value: EDNValue
    do { value = try TransitReader(format: format).read(input) } catch {
        _ = String(describing: error)
        return
    }
    let written: [UInt8]
    do { written = try TransitWriter(format: format).write(value) } catch {
        // A value the reader made that the writer refuses (e.g. too deep for its bound) is
        // a typed error, not a finding; anything else would show as a crash.
        _ = String(describing: error)
        return
    }
    let again: EDNValue
    do { again = try reRead(written, format: format) } catch {
        finding("written Transit does not read back: \(error)\nvalue: \(EDNPrinter.string(value))\nwritten: \(written)")
    }
    guard again == value else {
        finding("Transit round trip differs\nvalue: \(EDNPrinter.string(value))\nagain: \(EDNPrinter.string(again))")
    }
    // And the EDN printer takes whatever Transit reads.
    _ = EDNPrinter.bytes(value)
}
