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
}
