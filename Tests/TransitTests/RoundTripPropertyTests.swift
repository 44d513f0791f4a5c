import EDN
import Testing
import Transit

/// Property: whatever chsk prints (EDN) or writes (Transit JSON, JSON-verbose, MessagePack)
/// reads back as the same value — or the writer refuses it with a typed error. Random values
/// of every kind, nested, with hash-ordered sets and large maps, edge numbers and odd strings,
/// keywords, symbols, tags and instants; deterministic seed, bounded size.
@Suite struct RoundTripPropertyTests {
    static let count = 1000

    enum Writer: CaseIterable, CustomStringConvertible {
        case edn, json, jsonVerbose, msgpack
        var description: String {
            switch self {
            case .edn: "edn"
            case .json: "transit-json"
            case .jsonVerbose: "transit-json-verbose"
            case .msgpack: "transit-msgpack"
            }
        }

        /// Writes and reads back; `nil` when the writer refused with its typed error.
        func roundTrip(_ v: EDNValue) throws -> EDNValue? {
            switch self {
            case .edn:
                let bytes: [UInt8]
                do { bytes = try EDNPrinter.checkedBytes(v) } catch { return nil }
                return try EDNReader.read(bytes)
            case .json, .jsonVerbose, .msgpack:
                let format: TransitFormat = self == .json ? .json : self == .msgpack ? .msgpack : .jsonVerbose
                let bytes: [UInt8]
                do { bytes = try TransitWriter(format: format).write(v) } catch { return nil }
                return try TransitReader(format: format).read(bytes)
            }
        }
    }

    enum Outcome: Equatable {
        case same, refused, different, unreadable
    }

    static func outcome(_ v: EDNValue, _ writer: Writer) -> Outcome {
        do {
            guard let back = try writer.roundTrip(v) else { return .refused }
            return same(back, v) ? .same : .different
        } catch {
            return .unreadable
        }
    }

    /// The smallest part of `v` (descending into the first part that fails alike) that
    /// still shows `bad`: keeps failure messages short.
    static func smallestPart(_ v: EDNValue, _ writer: Writer, _ bad: Outcome) -> EDNValue {
        let parts: [EDNValue]
        switch v {
        case .list(let a), .vector(let a): parts = a
        case .set(let s): parts = s.elements
        case .map(let m): parts = m.entries
        case .tagged(_, let form): parts = [form]
        default: parts = []
        }
        for p in parts where outcome(p, writer) == bad { return smallestPart(p, writer, bad) }
        return v
    }

    @Test(arguments: Writer.allCases)
    func writtenValuesReadBackEqual(_ writer: Writer) throws {
        var rng = SplitMix64(seed: 0x5EED_0016)
        var refused = 0, odd = 0, failures = 0
        for i in 0..<Self.count {
            var gen = Generator(rng: rng)
            let value = gen.value(depth: 0)
            rng = gen.rng
            if gen.odd { odd += 1 }
            let result = Self.outcome(value, writer)
            if result == .refused { refused += 1 }
            guard result == .unreadable || result == .different || (result == .refused && !gen.odd) else { continue }
            failures += 1
            guard failures <= 5 else { continue }
            let part = Self.smallestPart(value, writer, result)
            let shown = EDNPrinter.string(part).prefix(300)
            switch result {
            case .refused: Issue.record("#\(i) \(writer) refused an ordinary value, in: \(shown)")
            case .unreadable: Issue.record("#\(i) \(writer) wrote what it cannot read back: \(shown)")
            default:
                let back = (try? writer.roundTrip(part)).flatMap { $0 }.map { EDNPrinter.string($0) } ?? "?"
                Issue.record("#\(i) \(writer): \(shown) read back as \(back.prefix(300))")
            }
        }
        #expect(failures == 0)
        // The generator must exercise both sides.
        #expect(odd > Self.count / 20)
        #expect(refused < odd)
    }

    /// Same kinds, same scalars, same members: maps and sets compare without order (the
    /// printers reorder them), everything else exactly (`1` ≠ `1N`, a list ≠ a vector).
    static func same(_ a: EDNValue, _ b: EDNValue) -> Bool {
        switch (a, b) {
        case (.list(let x), .list(let y)), (.vector(let x), .vector(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.set(let x), .set(let y)):
            return x.count == y.count && x.elements.allSatisfy { e in y.elements.contains { same(e, $0) } }
        case (.map(let x), .map(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let j = y.position(of: k), same(y.key(at: j), k), same(y.value(at: j), v) else { return false }
            }
            return true
        case (.tagged(let t, let x), .tagged(let u, let y)):
            return t == u && same(x, y)
        case (.bigDecimal(let x), .bigDecimal(let y)):
            return x == y && x.scale == y.scale
        default:
            return a.isIdentical(to: b)
        }
    }
}

/// Random `EDNValue`s. `odd` records whether any part is one a writer may have to refuse
/// (odd keyword/symbol/tag text, instants outside the years 0001–9999, odd characters).
struct Generator {
    var rng: SplitMix64
    var odd = false

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 1_000_000) / 1_000_000 < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

    static let oddStrings = ["", "~", "^", "`", "~:a", "~#set", "^ ", "^0", "~~", "a\u{0}b", "\u{1F600}", "e\u{301}",
                             "\"\\", "\u{2028}", "line\nbreak\ttab", "#inst", ";", " lead", "ü"]
    static let names = ["a", "b", "x1", "my-app", "event", "k?", "*v*", "a.b", "Z", "é", "é-ü", "a'b"]
    static let oddNames = ["", "a b", "1", "1a", "a/", "/a", "a/b/c", ":a", "a:", "nil", "true", "false", "#a", "a,b",
                           "a;b", "@x", "~x", "-1", "+", ".5", "a\"b", "\u{1F600}", "a/1"]
    static let tags = ["my/t", "my.app/point", "x/y"]
    static let oddTags = ["inst", "uuid", "uri", "bytes", "set", "list", "cmap", "ratio", "m", "u", "'", "", "1a", "a b", "object"]

    mutating func string() -> String {
        if chance(0.3) { return pick(Self.oddStrings) }
        let length = int(8)
        var s = ""
        for _ in 0..<length { s.unicodeScalars.append(pick(["a", "Z", "0", " ", "é", "\u{4E2D}", "\u{1F600}", "-", "~"])) }
        return s
    }

    mutating func name() -> String {
        if chance(0.06) { odd = true; return pick(Self.oddNames) }
        let n = pick(Self.names)
        return chance(0.3) ? pick(Self.names) + "/" + n : n
    }

    mutating func scalar() -> EDNValue {
        switch int(17) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2: return .integer(pick([0, 1, -1, 42, .max, .min, 9_007_199_254_740_991, 9_007_199_254_740_992, -9_007_199_254_740_992]))
        case 3: return .integer(Int64(bitPattern: rng.next()) >> Int64(int(63)))
        case 4:
            let digits = String((0..<(1 + int(30))).map { _ in Character(String(int(10))) })
            let big = BigInteger((chance(0.5) ? "-" : "") + "1" + digits)!
            return .bigInteger(chance(0.2) ? BigInteger(Int64(int(100))) : big)
        case 5:
            return .double(pick([0.0, -0.0, 1.0, -1.5, .nan, .infinity, -.infinity, 1e-5, 1e7, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                 0.1 + 0.2, Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)]))
        case 6:
            let digits = String((0..<(1 + int(20))).map { _ in Character(String(int(10))) })
            return .bigDecimal(BigDecimal(isNegative: chance(0.3), unscaledDigits: digits, scale: int(30) - 10))
        case 7:
            return Ratio.make(BigInteger(Int64(int(2000)) - 1000), BigInteger(Int64(2 + int(99)))) ?? .integer(0)
        case 8, 9: return .string(string())
        case 10:
            if chance(0.15) { odd = true; return .character(pick(["\u{0}", "\u{1}", "\u{7F}", "\u{A0}", "\u{2028}", "\u{3000}", "\u{301}", ",", "\u{FEFF}"])) }
            return .character(pick(["a", "\n", " ", "\t", "\u{8}", "\u{C}", "\r", "\\", "\"", "(", "é", "\u{4E2D}", "~"]))
        case 11: return .keyword(Keyword(name()))
        case 12: return .symbol(Symbol(name()))
        case 13:
            if chance(0.15) {
                odd = true
                return .instant(Instant(millisecondsSinceEpoch: pick([.max, .min, -62_135_769_600_001, 253_402_300_800_000])))
            }
            let base: Int64 = pick([0, -1, 946_728_000_000, -12_219_292_800_001, -30_609_792_000_000, -62_135_769_600_000,
                                    253_402_300_799_999])
            // Later by up to 31 years, except from the last readable instant.
            let later = base == 253_402_300_799_999 ? 0 : Int64(int(1_000_000_000)) * 1000
            return .instant(Instant(millisecondsSinceEpoch: base + later))
        case 14: return .uuid(EDNUUID(high: rng.next(), low: rng.next()))
        case 15: return .uri("http://example.com/" + string().filter { $0 != "\0" })
        default: return .bytes((0..<int(6)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }

    mutating func value(depth: Int) -> EDNValue {
        if depth >= 3 || chance(depth == 0 ? 0.15 : 0.45) {
            if chance(0.04) {
                var tag = pick(Self.tags)
                if chance(0.3) { odd = true; tag = pick(Self.oddTags) }
                return .tagged(Symbol(tag), depth < 3 ? value(depth: depth + 1) : scalar())
            }
            return scalar()
        }
        let n = pick([0, 1, 2, 3, 5, 8, 9, 12])
        switch int(5) {
        case 0: return .vector((0..<n).map { _ in value(depth: depth + 1) })
        case 1: return .list((0..<n).map { _ in value(depth: depth + 1) })
        case 2:
            var s = EDNSet()
            for _ in 0..<n { s.insert(value(depth: depth + 1)) }
            return .set(s)
        default:
            var m = EDNMap()
            for _ in 0..<n {
                let k = chance(0.7) ? pick([.keyword(Keyword(name())), .string(string()), .integer(Int64(int(100)))]) : value(depth: depth + 1)
                m[k] = value(depth: depth + 1)
            }
            return .map(m)
        }
    }
}
