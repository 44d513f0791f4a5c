import EDN
import Testing

/// Inputs the libFuzzer targets in `Fuzz/` found (issue 13), kept as regression tests.
@Suite struct EDNFuzzFindingTests {
    /// `#:ns{:1 a}` made the key `:ns/1`, which prints as a keyword no reader takes: refused.
    /// `:1` alone still reads (as in Clojure), and other keys still get the namespace.
    @Test func namespacedMapKeyStartingWithADigit() throws {
        for input in ["#:ns{:1 a}", "#:ns{:a 1 :2b c}", "#:ns{:1 a datb 2}"] {
            #expect(throws: EDNReadError.self, "\(input)") { try EDNReader.read(input) }
        }
        #expect(try EDNReader.read(":1") == .keyword(Keyword("1")))
        let m = try EDNReader.read("#:ns{:a 1 b 2 :_/c 3 :x/d 4}")
        let printed = EDNPrinter.string(m)
        #expect(printed == "{:ns/a 1, ns/b 2, :c 3, :x/d 4}")
        #expect(try EDNReader.read(printed) == m)
    }

    /// `#:#:ns{a 1}` took `#:ns` as the namespace and made the symbol `#:ns/a`, which reads as
    /// another namespaced map; a namespace that starts like a number made keys that read as
    /// numbers. Such namespaces are refused; ordinary ones still qualify.
    @Test func namespacedMapNamespaceThatIsNoSymbol() throws {
        for input in ["#:#:nsns{a_b 11}", "#:#ns{a 1}", "#:1a{b 1}", "#:+1{b 1}", "#:-2x{b 1}"] {
            #expect(throws: EDNReadError.self, "\(input)") { try EDNReader.read(input) }
        }
        for input in ["#:a#b{c 1}", "#:+{c 1}", "#:-x{c 1}", "#:a1{:c 1}"] {
            let m = try EDNReader.read(input)
            #expect(try EDNReader.read(EDNPrinter.string(m)) == m, "\(input)")
        }
    }

    /// `#:ns{:_/:a 1}` dropped the `_` namespace and made the keyword `::a` (text `:a`), which
    /// prints as an auto-resolved keyword no EDN reader takes (found by the CI fuzz smoke run).
    /// Refused, as is the symbol case; `:_/c` still loses its namespace.
    @Test func namespacedMapKeyThatWouldNotReadBack() throws {
        for input in ["#:ns{:a 1 :_/:a 1 :_/bb 4}", "#:ns{_/:b 1}"] {
            #expect(throws: EDNReadError.self, "\(input)") { try EDNReader.read(input) }
        }
        let m = try EDNReader.read("#:ns{:_/c 1 :d/:e 2}")
        #expect(try EDNReader.read(EDNPrinter.string(m)) == m, "\(EDNPrinter.string(m))")
    }

    /// `#inst "0000"` read (as in Clojure) but printed as `#inst "0001-01-01…"` (java.util.Date
    /// has no year 0), another moment. Instants outside 0001–9999 UTC are refused on reading;
    /// the edges read and print back.
    @Test func instantsThatWouldPrintAsAnotherMomentAreRefused() throws {
        for input in ["#inst \"0000\"", "#inst \"0000-12-31T23:59:59.999Z\"", "#inst \"0001-01-01T00:00:00+01:00\""] {
            #expect(throws: EDNReadError.self, "\(input)") { try EDNReader.read(input) }
        }
        for input in ["#inst \"0001-01-01T00:00:00.000-00:00\"", "#inst \"9999-12-31T23:59:59.999-00:00\"", "#inst \"1000-01-01\""] {
            let v = try EDNReader.read(input)
            #expect(try EDNReader.read(EDNPrinter.string(v)) == v, "\(input)")
        }
    }
}
