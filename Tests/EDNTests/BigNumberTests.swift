@testable import EDN
import Foundation
import Testing
import Transit

/// Issue 13, item 3: the CPU one number can cost is bounded (`maxNumberLength`), and the
/// arithmetic at the bound is not quadratic-per-step (Knuth D division, so gcd is quadratic
/// overall, not cubic).
@Suite struct BigNumberTests {
    static let bound = EDNReader.Options.defaultMaxNumberLength

    /// Fibonacci numbers: consecutive ones are coprime and are Euclid's worst case (the most
    /// division steps for their size).
    static func fibonacciPair(digits: Int) -> (String, String) {
        var a = BigInteger(1 as Int64), b = BigInteger(1 as Int64)
        let threshold = BigInteger("1" + String(repeating: "0", count: digits - 1))!
        while b < threshold { (a, b) = (b, add(a, b)) }
        return (a.description, b.description)
    }

    static func add(_ x: BigInteger, _ y: BigInteger) -> BigInteger {
        var out: [UInt32] = []
        var carry: UInt64 = 0
        for i in 0..<max(x.limbs.count, y.limbs.count) {
            let s = UInt64(i < x.limbs.count ? x.limbs[i] : 0) + UInt64(i < y.limbs.count ? y.limbs[i] : 0) + carry
            out.append(UInt32(truncatingIfNeeded: s)); carry = s >> 32
        }
        if carry > 0 { out.append(UInt32(carry)) }
        return BigInteger(isNegative: false, limbs: out)
    }

    static func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        if a.isEmpty || b.isEmpty { return [] }
        var out = [UInt32](repeating: 0, count: a.count + b.count)
        for i in a.indices {
            var carry: UInt64 = 0
            for j in b.indices {
                let t = UInt64(a[i]) * UInt64(b[j]) + UInt64(out[i + j]) + carry
                out[i + j] = UInt32(truncatingIfNeeded: t); carry = t >> 32
            }
            out[i + b.count] = UInt32(carry)
        }
        while out.last == 0 { out.removeLast() }
        return out
    }

    static func addLimbs(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        add(BigInteger(isNegative: false, limbs: a), BigInteger(isNegative: false, limbs: b)).limbs
    }

    /// The decimal text of `n × k` (small k).
    static func times(_ n: String, _ k: UInt32) -> String {
        var limbs = BigInteger(n)!.limbs
        BigInteger.multiplyAdd(&limbs, k, 0)
        return BigInteger(isNegative: false, limbs: limbs).description
    }

    static func transitKind(_ json: String) -> TransitError.Kind? {
        do {
            _ = try TransitReader(format: .json).read(Array(json.utf8))
            return nil
        } catch {
            return error.kind
        }
    }

    static func jsonKind(_ json: String) -> JSONBridge.Error.Kind? {
        do {
            _ = try JSONBridge.readAll(Array(json.utf8))
            return nil
        } catch {
            return error.kind
        }
    }

    /// CPU seconds of this thread spent in `body` (not wall time: a loaded CI machine does not
    /// make it fail; the guard is against super-linear work, a 44 s class).
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let start = now()
        try body()
        return now() - start
    }

    /// Guard against a regression to quadratic-per-step or cubic work: the worst inputs at the
    /// bound (a 4 096/4 096-digit Fibonacci ratio, a 4 096-digit integer and big decimal) read
    /// and print in under 2 CPU-seconds each even in a debug build (typically 0.1–0.3 s;
    /// unbounded, a 24 KB ratio took 44 s).
    @Test func worstNumbersAtTheBoundAreFast() throws {
        let (n, d) = Self.fibonacciPair(digits: Self.bound)
        #expect(n.utf8.count <= Self.bound && d.utf8.count == Self.bound)
        let ratio = n + "/" + d
        var printed = ""
        let ratioTime = try Self.seconds { printed = EDNPrinter.string(try EDNReader.read(ratio)) }
        #expect(printed == ratio)   // coprime: stays as written
        #expect(ratioTime < 2, "ratio of \(Self.bound)-digit parts took \(ratioTime) s")
        let integer = String(repeating: "7", count: Self.bound)
        let intTime = try Self.seconds { printed = EDNPrinter.string(try EDNReader.read(integer)) }
        #expect(printed == integer + "N")
        #expect(intTime < 2, "\(Self.bound)-digit integer took \(intTime) s")
        let decimal = "1." + String(repeating: "3", count: Self.bound - 1) + "M"
        let decTime = try Self.seconds { printed = EDNPrinter.string(try EDNReader.read(decimal)) }
        #expect(printed == decimal)
        #expect(decTime < 2)
        // Transit: the same ratio as ~#ratio, and a JSON number at the bound.
        let transit = Array("[\"~#ratio\",[\"~n\(n)\",\"~n\(d)\"]]".utf8)
        let transitTime = try Self.seconds { _ = try TransitReader(format: .json).read(transit) }
        #expect(transitTime < 2)
    }

    /// One digit past the bound is a typed error, before any big-number work.
    @Test func oneDigitMoreIsRefused() throws {
        let long = String(repeating: "9", count: Self.bound + 1)
        for text in [long, long + "N", "1/" + long, long + "/3", "-" + long + ".5M", "1." + long, "1e" + long, "0x" + long, "36r" + long] {
            #expect(readErrorKind(text) == .numberTooLong, "\(text.prefix(12))…")
        }
        #expect(readErrorKind("[" + long + "]") == .numberTooLong)
        let ok = String(repeating: "9", count: Self.bound)
        #expect(readErrorKind(ok + "/" + ok) == nil)
        for json in ["[\"~n\(long)\"]", "[\"~i\(long)\"]", "[\"~f\(long)\"]", "[\"~d\(long)\"]", "[\(long)]",
                     "[\"~#ratio\",[\"\(long)\",\"3\"]]", "[\"~#ratio\",[\"~n1\",\"~n\(long)\"]]"] {
            let kind: TransitError.Kind? = Self.transitKind(json)
            #expect(kind == .numberTooLong, "\(json.prefix(14))…")
        }
        let jsonKind: JSONBridge.Error.Kind? = Self.jsonKind("[\(long)]")
        #expect(jsonKind == .numberTooLong)
        // A custom bound.
        #expect(throws: EDNReadError.self) { try EDNReader.read("12345", options: .init(maxNumberLength: 4)) }
        #expect(try EDNReader.read("1234", options: .init(maxNumberLength: 4)) == 1234)
    }

    /// Knuth D against the bit-by-bit reference for small values, and q × d + r == n, r < d for
    /// random large ones (including the rare add-back step, hit by divisors of the form 2^k − 1).
    @Test func divisionIsExact() throws {
        var rng = SystemRandomNumberGenerator()
        func random(_ limbs: Int) -> [UInt32] {
            var x = (0..<limbs).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
            if Bool.random(using: &rng), !x.isEmpty { x[x.count - 1] = UInt32.max }
            if Int.random(in: 0..<4, using: &rng) == 0 { for i in x.indices where Bool.random(using: &rng) { x[i] = i % 2 == 0 ? 0 : UInt32.max } }
            while x.last == 0 { x.removeLast() }
            return x
        }
        for round in 0..<2000 {
            let a = random(Int.random(in: 1...(round < 1000 ? 4 : 40), using: &rng))
            var b = random(Int.random(in: 1...(round < 1000 ? 3 : 30), using: &rng))
            if b.isEmpty { b = [1] }
            let (q, r) = BigInteger.divMod(a, b)
            #expect(BigInteger.compareMagnitudes(r, b) < 0)
            #expect(Self.addLimbs(Self.multiply(q, b), r) == a)
            if round < 1000 {
                let (q2, r2) = BigInteger.divModBitwise(a, b)
                #expect(q == q2 && r == r2)
            }
        }
        // gcd and printing agree with known values.
        let (f1, f2) = Self.fibonacciPair(digits: 50)
        #expect(BigInteger.gcd(BigInteger(f1)!, BigInteger(f2)!) == BigInteger(1 as Int64))
        // A common factor as long as the parts: (f2 × 10) / (f2 × 15) normalises to 2/3.
        #expect(EDNPrinter.string(try EDNReader.read(Self.times(f2, 2) + "/" + Self.times(f2, 3))) == "2/3")
    }
}
