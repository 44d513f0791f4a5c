import EDN
import Foundation
import Testing
@testable import Transit

/// The writers' fast paths must print exactly what the general code prints.
@Suite struct WriterFastPaths {
    @Test func doublesInTheDecimalRangeMatchTheGeneralPath() {
        var rng = SystemRandomNumberGenerator()
        var samples: [Double] = [1e-3, 0.001, 0.0015, 1, 10, 100, 9_999_999.999999998, 1e7.nextDown,
                                 0.1, 0.2, 0.30000000000000004, 123456.7, 1.5, 999.99, 5e-3, 46.7]
        for _ in 0..<20_000 {
            let exponent = Double.random(in: -3.5...7.5, using: &rng)
            samples.append(pow(10, exponent) * (Bool.random(using: &rng) ? 1 : -1))
            samples.append((Double(Int.random(in: 0...100_000, using: &rng)) / 100) * (Bool.random(using: &rng) ? 1 : -1))
        }
        for d in samples {
            var fast = ByteBuffer(capacity: 32), general = ByteBuffer(capacity: 32)
            defer { fast.free(); general.free() }
            TransitWriting.appendJavaDouble(d, into: &fast)
            TransitWriting.appendJavaDoubleGeneral(d, into: &general)
            #expect(Array(fast.bytes) == Array(general.bytes), "\(d)")
        }
    }

    @Test func doublesAsJavaPrintsThem() {
        let cases: [(Double, String)] = [
            (1e7, "1.0E7"), (1e-4, "1.0E-4"), (6.626e-34, "6.626E-34"), (-1.5e10, "-1.5E10"),
            (1.7976931348623157e308, "1.7976931348623157E308"), (Double.leastNonzeroMagnitude, "4.9E-324"),
            (141336663583.03787, "1.4133666358303787E11"), (1e-5, "1.0E-5"), (123456789.0, "1.23456789E8"),
            (1e21, "1.0E21"), (1e22, "1.0E22"), (0.001, "0.001"), (9999999.0, "9999999.0"), (100.0, "100.0"),
            (0.0, "0.0"), (-0.0, "-0.0"), (0.00012345, "1.2345E-4"), (-46.7, "-46.7"), (4e11, "4.0E11"),
        ]
        for (d, java) in cases {
            #expect(TransitWriting.javaDoubleString(d) == java, "\(d)")
        }
    }

    @Test func uuidAndDecimalTextMatchTheirDescriptions() {
        var rng = SystemRandomNumberGenerator()
        let edges: [(UInt64, UInt64)] = [(0, 0), (.max, .max), (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210)]
        let randoms = (0..<1000).map { _ in (UInt64.random(in: .min ... .max, using: &rng), UInt64.random(in: .min ... .max, using: &rng)) }
        for (hi, lo) in edges + randoms {
            let u = EDNUUID(high: hi, low: lo)
            let text = TransitWriting.withUUIDText(u) { String(decoding: $0, as: UTF8.self) }
            #expect(text == u.description)
        }
        let ints: [Int64] = [0, 1, -1, 9, 10, -10, .max, .min, 1_587_427_530_148, -62_135_596_800_000]
        for i in ints + (0..<1000).map({ _ in Int64.random(in: .min ... .max, using: &rng) }) {
            #expect(TransitWriting.withDecimalText(i) { String(decoding: $0, as: UTF8.self) } == String(i))
        }
    }

    @Test func stringsWithEscapesAtEveryOffset() throws {
        // The SWAR scanners (reader and escaper) must find a special byte wherever it sits.
        for special in ["\"", "\\", "\n", "\u{01}", "é", "😀"] {
            for offset in 0..<20 {
                let s = String(repeating: "a", count: offset) + special + String(repeating: "b", count: 19 - offset)
                for format in [TransitFormat.json, .jsonVerbose, .msgpack] {
                    let v: EDNValue = .vector([.string(s), .map([.string(s): .string(s)])])
                    let bytes = try TransitWriter(format: format).write(v)
                    #expect(try TransitReader(format: format).read(bytes) == v)
                }
            }
        }
    }

    @Test func uuidsAreReadEightDigitsAtATime() {
        // The reader's word-at-a-time UUID parser against Foundation's: both cases, every hex
        // digit in every position, and every other byte in every position refused.
        func read(_ text: String) -> EDNUUID? {
            Array(text.utf8).withUnsafeBufferPointer { TransitDecoding.canonicalUUID($0) }
        }
        func foundation(_ text: String) -> EDNUUID? {
            guard let u = UUID(uuidString: text) else { return nil }
            let b = withUnsafeBytes(of: u.uuid) { Array($0) }
            return EDNUUID(high: b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: b[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let u = UUID()
            let text = Bool.random(using: &rng) ? u.uuidString : u.uuidString.lowercased()
            let expected = foundation(u.uuidString)
            #expect(expected != nil)
            #expect(read(text) == expected, "\(text)")
        }
        let hexDigits = Array("0123456789abcdefABCDEF".utf8)
        let base = Array("00000000-0000-0000-0000-000000000000".utf8)
        for position in 0..<36 where ![8, 13, 18, 23].contains(position) {
            for byte in UInt8.min...UInt8.max {
                var bytes = base
                bytes[position] = byte
                let got = bytes.withUnsafeBufferPointer { TransitDecoding.canonicalUUID($0) }
                if hexDigits.contains(byte) {
                    let expected = foundation(String(decoding: bytes, as: UTF8.self))
                    #expect(got != nil && got == expected, "\(byte) at \(position)")
                } else {
                    #expect(got == nil, "\(byte) at \(position)")
                }
            }
        }
        #expect(read("00000000-0000-0000-0000-00000000000") == nil)
        #expect(read("00000000_0000-0000-0000-000000000000") == nil)
    }

    @Test func uuidTextIsFoundations() {
        for _ in 0..<5_000 {
            let u = UUID()
            let b = withUnsafeBytes(of: u.uuid) { Array($0) }
            let e = EDNUUID(high: b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: b[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
            #expect(TransitWriting.withUUIDText(e) { String(decoding: $0, as: UTF8.self) } == u.uuidString.lowercased())
        }
        let extremes = [EDNUUID(high: 0, low: 0), EDNUUID(high: .max, low: .max), EDNUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)]
        let texts = extremes.map { u in TransitWriting.withUUIDText(u) { String(decoding: $0, as: UTF8.self) } }
        #expect(texts == ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                          "01234567-89ab-cdef-fedc-ba9876543210"])
    }

    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        func check(_ bytes: [UInt8]) {
            let mine = bytes.withUnsafeBufferPointer { TransitDecoding.validString($0) }
            #expect(mine == String(validating: bytes, as: UTF8.self), "\(bytes)")
        }
        // Every one- and two-byte sequence, every lead byte with every second byte and valid or
        // invalid tails, behind ASCII prefixes of 0...9 bytes (the eight-byte skip).
        for a in 0...255 {
            check([UInt8(a)])
            for b in 0...255 {
                check([UInt8(a), UInt8(b)])
                if a >= 0xC0 {
                    check([UInt8(a), UInt8(b), 0x80])
                    check([UInt8(a), UInt8(b), 0x80, 0x80])
                    check([UInt8(a), UInt8(b), 0x80, 0x41])
                    check([UInt8(a), UInt8(b), 0xBF, 0xBF, 0x41])
                }
            }
        }
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [[0x41], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0x80], [0xED, 0xA0, 0x80],
                                 [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF8], [0xFF], [0xE2, 0x82]]
        for _ in 0..<20_000 {
            var bytes = [UInt8](repeating: 0x61, count: Int.random(in: 0...9, using: &rng))
            for _ in 0..<Int.random(in: 1...6, using: &rng) { bytes += pieces.randomElement(using: &rng)! }
            check(bytes)
        }
    }

    @Test func laterDuplicateKeysReplaceEarlierValues() throws {
        let want: EDNValue = .map([.kw("a"): 2, .kw("b"): 3])
        #expect(try TransitReader(format: .json).read(#"["^ ","~:a",1,"~:b",3,"~:a",2]"#) == want)
        #expect(try TransitReader(format: .json).read(#"{"~:a":1,"~:b":3,"~:a":2}"#) == want)
        // MessagePack: a native map and a map-as-array, each with :a twice.
        let native: [UInt8] = [0x83, 0xA3, 0x7E, 0x3A, 0x61, 0x01, 0xA3, 0x7E, 0x3A, 0x62, 0x03, 0xA3, 0x7E, 0x3A, 0x61, 0x02]
        #expect(try TransitReader(format: .msgpack).read(native) == want)
        let asArray: [UInt8] = [0x97, 0xA2, 0x5E, 0x20, 0xA3, 0x7E, 0x3A, 0x61, 0x01, 0xA3, 0x7E, 0x3A, 0x62, 0x03,
                                0xA3, 0x7E, 0x3A, 0x61, 0x02]
        #expect(try TransitReader(format: .msgpack).read(asArray) == want)
        if case .map(let m) = try TransitReader(format: .msgpack).read(native) {
            #expect(m.count == 2 && m.keys == [.kw("a"), .kw("b")])
        }
    }
}
