import EDN
import FuzzSupport
import Transit

/// The Transit targets' check (one for both formats): any input reads or throws a
/// `TransitError`; what reads writes (in the same format, with the write cache on), and that
/// reads back to an equal value. The byte decoder (`TransitDecoder`, the typed path) reads
/// exactly what `TransitReader` reads, or refuses it with the same kind of error.
public func roundTrip(_ input: [UInt8], format: TransitFormat) {
    checkByteDecoder(input, format: format)
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

/// The byte decoder against the tree reader on the same input.
@inline(never)
func checkByteDecoder(_ input: [UInt8], format: TransitFormat) {
    var tree: EDNValue?, treeKind: TransitError.Kind?
    do { tree = try TransitReader(format: format).read(input) } catch { treeKind = error.kind }
    var direct: EDNValue?, directKind: TransitError.Kind?, other: String?
    do { direct = try TransitDecoder(format: format).decode(EDNValue.self, from: input) } catch let e as TransitError {
        directKind = e.kind
    } catch {
        other = "\(error)"
    }
    if let other { finding("the byte decoder fails with another error: \(other)") }
    if let a = tree, let b = direct {
        guard a == b, EDNPrinter.bytes(a) == EDNPrinter.bytes(b) else {
            finding("the byte decoder reads another value\ntree: \(EDNPrinter.string(a))\nbytes: \(EDNPrinter.string(b))")
        }
    } else if treeKind == nil || treeKind != directKind {
        finding("the byte decoder and the tree reader disagree\ntree: \(tree.map(EDNPrinter.string) ?? "error \(treeKind!)")\nbytes: \(direct.map(EDNPrinter.string) ?? "error \(String(describing: directKind))")")
    }
}
