import EDN
import FuzzSupport
import Transit

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
    do { again = try TransitReader(format: format).read(written) } catch {
        finding("written Transit does not read back: \(error)\nvalue: \(EDNPrinter.string(value))\nwritten: \(written)")
    }
    guard again == value else {
        finding("Transit round trip differs\nvalue: \(EDNPrinter.string(value))\nagain: \(EDNPrinter.string(again))")
    }
    // And the EDN printer takes whatever Transit reads.
    _ = EDNPrinter.bytes(value)
}
