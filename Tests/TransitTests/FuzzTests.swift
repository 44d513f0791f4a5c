import EDN
import Testing
import Transit

/// Robustness: truncated and mutated exemplar payloads (deterministic, seeded) fed to each
/// reader. Every one must give a value or a typed `TransitError` — no crash, no hang.
@Suite(.enabled(if: Corpus.available, "Transit exemplar corpus not found at ../shared/conformance/transit-exemplars (skipped)"))
struct FuzzTests {
    static let iterations = 10_000

    /// Payloads of one kind, smaller ones only (keeps the debug-build run short), plus the
    /// big cache exemplars truncated to a few kilobytes.
    static func payloads(_ ext: String) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for name in Corpus.names {
            if ext == ".json", name.hasSuffix(".verbose") { continue }
            guard let b = Corpus.file(name, ext) else { continue }
            out.append(b.count <= 4096 ? b : Array(b.prefix(4096)))
        }
        return out
    }

    static let specialJSON: [UInt8] = Array(#"[]{}",:\~^#`0123456789-.eE tfn"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xFF, 0xED, 0xF0]
    static let specialMsgpack: [UInt8] = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC7, 0xCA, 0xCB,
                                          0xCC, 0xCF, 0xD0, 0xD3, 0xD4, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xFF,
                                          0x5E, 0x7E, 0x23, 0x20]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64, specials: [UInt8]) -> [UInt8] {
        var b = input
        if b.isEmpty { return b }
        let rounds = 1 + Int(rng.next() % 3)
        for _ in 0..<rounds {
            if b.isEmpty { break }
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 7 {
            case 0: b = Array(b.prefix(i))                                   // truncate
            case 1: b[i] = UInt8(truncatingIfNeeded: rng.next())              // random byte
            case 2: b[i] = specials[Int(rng.next() % UInt64(specials.count))] // structural byte
            case 3: b.insert(specials[Int(rng.next() % UInt64(specials.count))], at: i)
            case 4: b.removeSubrange(i..<min(b.count, i + 1 + Int(rng.next() % 8)))
            case 5:                                                           // duplicate a slice
                let j = min(b.count, i + 1 + Int(rng.next() % 16))
                b.insert(contentsOf: b[i..<j], at: i)
            default: b[i] ^= UInt8(1 << (rng.next() % 8))                     // bit flip
            }
        }
        return b
    }

    func run(_ ext: String, format: TransitFormat, seed: UInt64, specials: [UInt8]) {
        let payloads = Self.payloads(ext)
        #expect(!payloads.isEmpty)
        var rng = SplitMix64(seed: seed)
        let reader = TransitReader(format: format)
        var values = 0, errors = 0
        for _ in 0..<Self.iterations {
            let p = payloads[Int(rng.next() % UInt64(payloads.count))]
            let input = Self.mutate(p, &rng, specials: specials)
            do {
                _ = try reader.read(input)
                values += 1
            } catch {
                // Typed throws: `error` is a TransitError with a kind and a position.
                #expect(error.offset >= 0 && error.offset <= input.count)
                errors += 1
            }
            // The stream reader must also finish.
            var stream = TransitStreamReader(input, format: format)
            var n = 0
            while n < 1000, let v = try? stream.next() { _ = v; n += 1 }
        }
        #expect(values + errors == Self.iterations)
        #expect(errors > 0 && values > 0)
    }

    @Test func jsonReader() {
        run(".json", format: .json, seed: 0x5EED_0001, specials: Self.specialJSON)
    }

    @Test func jsonVerboseReader() {
        run(".verbose.json", format: .jsonVerbose, seed: 0x5EED_0002, specials: Self.specialJSON)
    }

    @Test func msgpackReader() {
        run(".mp", format: .msgpack, seed: 0x5EED_0003, specials: Self.specialMsgpack)
    }

    @Test func randomBytes() {
        var rng = SplitMix64(seed: 42)
        for format in [TransitFormat.json, .msgpack] {
            let reader = TransitReader(format: format)
            for _ in 0..<2000 {
                let n = Int(rng.next() % 64)
                let input = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                _ = try? reader.read(input)
            }
        }
    }
}
