import EDN
import Testing
import Transit

/// The Transit format's exemplars (written by transit-clj / transit-java): every file decodes to
/// its `.edn` value, and encoding the `.edn` value reproduces every file byte for byte.
@Suite(.enabled(if: Corpus.available, "Transit exemplar corpus not found at ../shared/conformance/transit-exemplars (skipped)"))
struct ExemplarTests {
    static let encodings: [(ext: String, format: TransitFormat)] = [(".json", .json), (".verbose.json", .jsonVerbose), (".mp", .msgpack)]

    @Test func corpusIsComplete() {
        #expect(Corpus.names.count == 67)
    }

    @Test func decodesEveryExemplar() throws {
        var checked = 0
        for name in Corpus.names {
            let expected = try Corpus.expected(name)
            for (ext, format) in Self.encodings {
                guard let bytes = Corpus.file(name, ext) else { Issue.record("missing \(name)\(ext)"); continue }
                let got = try TransitReader(format: format).read(bytes)
                #expect(got == expected, "\(name)\(ext)")
                checked += 1
            }
        }
        #expect(checked == 201)
    }

    @Test func encodesEveryExemplarByteForByte() throws {
        var identical = 0
        for name in Corpus.names {
            let value = try Corpus.expected(name)
            for (ext, format) in Self.encodings {
                guard var want = Corpus.file(name, ext) else { continue }
                if format != .msgpack, want.last == 10 { want.removeLast() }
                let got = try TransitWriter(format: format).write(value)
                if got == want {
                    identical += 1
                } else {
                    Issue.record("\(name)\(ext) differs: \(String(decoding: got.prefix(200), as: UTF8.self))")
                }
            }
        }
        #expect(identical == 201)
    }

    @Test func encodesTheEDNFilesAsTheyArePrinted() throws {
        // The .edn files themselves (with #object[java.net.URI …]) encode to the exemplars too.
        for name in ["uris", "one_uri"] {
            let value = try EDNReader.read(String(decoding: Corpus.file(name, ".edn")!, as: UTF8.self))
            #expect(try TransitWriter(format: .json).write(value) == Corpus.file(name, ".json")!)
            #expect(try TransitWriter(format: .msgpack).write(value) == Corpus.file(name, ".mp")!)
        }
    }

    @Test func bigExampleWithCacheEqualsVerboseForm() throws {
        guard let json = Corpus.bytes(Corpus.root + "/example.json"),
              let verbose = Corpus.bytes(Corpus.root + "/example.verbose.json") else { return }
        let a = try TransitReader(format: .json).read(json)
        let b = try TransitReader(format: .jsonVerbose).read(verbose)
        #expect(a == b)
        // …and it survives every encoding.
        for format in TransitFormat.allCases {
            #expect(try roundTrip(a, format) == a)
        }
    }

    @Test func everyExemplarConvertsAmongAllEncodings() throws {
        for name in Corpus.names {
            let value = try Corpus.expected(name)
            for (_, from) in Self.encodings {
                let once = try TransitReader(format: from).read(try TransitWriter(format: from).write(value))
                for (_, to) in Self.encodings {
                    #expect(try roundTrip(once, to) == value, "\(name) \(from) → \(to)")
                }
            }
            // And through EDN text.
            #expect(try EDNReader.read(EDNPrinter.string(value)) == value, "\(name) via EDN")
        }
    }
}
