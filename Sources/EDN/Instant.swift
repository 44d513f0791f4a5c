/// A point in time with millisecond precision: Clojure's `#inst` (a `java.util.Date`),
/// Transit's `~m` / `~t`.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// An instant from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    public static func < (a: Instant, b: Instant) -> Bool { a.millisecondsSinceEpoch < b.millisecondsSinceEpoch }

    /// RFC 3339 in UTC as Clojure prints it: `2000-01-01T00:00:00.000-00:00`.
    public var description: String { rfc3339(offsetSuffix: "-00:00") }

    /// The earliest instant whose text Clojure's `#inst` printer and reader agree on:
    /// 0001-01-01T00:00:00.000 (Julian). Before it Java prints the year of the era without
    /// its sign (1 BC prints as `0001`), which reads back as a different instant.
    public static let earliestReadable = Instant(millisecondsSinceEpoch: -62_135_769_600_000)
    /// The latest instant whose text Clojure's `#inst` reader accepts: 9999-12-31T23:59:59.999.
    /// After it Java prints a five-digit year, which no `#inst` reader (Clojure's, chsk's) reads.
    public static let latestReadable = Instant(millisecondsSinceEpoch: 253_402_300_799_999)

    /// True when the instant's printed text reads back as the same instant (years 0001–9999).
    public var isReadable: Bool {
        millisecondsSinceEpoch >= Instant.earliestReadable.millisecondsSinceEpoch
            && millisecondsSinceEpoch <= Instant.latestReadable.millisecondsSinceEpoch
    }

    /// The UTC fields as `java.text.SimpleDateFormat` with a default `GregorianCalendar`
    /// gives them: Julian dates before 1582-10-15, and the year of the era (so no sign).
    func utcFields() -> (year: Int64, month: Int64, day: Int64, millisOfDay: Int64) {
        let ms = millisecondsSinceEpoch
        var days = ms / 86_400_000
        var rem = ms % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (y, m, d) = Instant.civil(fromDays: days)
        return (y > 0 ? y : 1 - y, m, d, rem)
    }

    /// Appends `yyyy-MM-ddTHH:mm:ss.SSS` (UTC) to `out` as Clojure's printer writes it (the
    /// printer's fast path; see `utcFields` for the calendar).
    func writeUTC(into out: inout [UInt8]) {
        let (y, m, d, rem) = utcFields()
        @inline(__always) func digits(_ v: Int64, _ w: Int) {
            var div: Int64 = 1
            var width = 1
            while width < w || div * 10 <= v { div *= 10; width += 1 }
            var v = v
            while div > 0 {
                out.append(UInt8(48 + v / div))
                v %= div
                div /= 10
            }
        }
        digits(y, 4); out.append(UInt8(ascii: "-")); digits(m, 2); out.append(UInt8(ascii: "-")); digits(d, 2)
        out.append(UInt8(ascii: "T"))
        digits(rem / 3_600_000, 2); out.append(UInt8(ascii: ":")); digits(rem / 60_000 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(rem / 1000 % 60, 2); out.append(UInt8(ascii: ".")); digits(rem % 1000, 3)
    }

    /// RFC 3339 in UTC with a `Z` offset, as Transit's verbose `~t` form writes it
    /// (transit-java's `SimpleDateFormat`, so the same calendar as `#inst`).
    public var transitString: String { rfc3339(offsetSuffix: "Z") }

    func rfc3339(offsetSuffix: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        writeUTC(into: &out)
        out += offsetSuffix.utf8
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses what Clojure's `#inst` reader accepts (`clojure.instant/parse-timestamp`):
    /// `yyyy[-MM[-dd[THH[:mm[:ss[.fraction]]]]]][Z|±HH:mm]`, with range checks. Returns `nil`
    /// when the text is not such a timestamp.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                guard b[k] >= 48 && b[k] <= 57 else { return nil }
                v = v * 10 + Int64(b[k] - 48)
            }
            i += n
            return v
        }
        func take(_ c: Character) -> Bool {
            if i < b.count, b[i] == c.asciiValue! { i += 1; return true }
            return false
        }
        guard let year = digits(4) else { return nil }
        var month: Int64 = 1, day: Int64 = 1, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, millis: Int64 = 0
        if take("-") {
            guard let mo = digits(2) else { return nil }
            month = mo
            if take("-") {
                guard let d = digits(2) else { return nil }
                day = d
                if take("T") {
                    guard let h = digits(2) else { return nil }
                    hour = h
                    if take(":") {
                        guard let mi = digits(2) else { return nil }
                        minute = mi
                        if take(":") {
                            guard let s = digits(2) else { return nil }
                            second = s
                            if take(".") {
                                var count = 0
                                var frac: Int64 = 0
                                while i < b.count, b[i] >= 48 && b[i] <= 57 {
                                    if count < 3 { frac = frac * 10 + Int64(b[i] - 48) }
                                    count += 1; i += 1
                                }
                                guard count > 0 else { return nil }
                                if count < 3 { for _ in count..<3 { frac *= 10 } }
                                millis = frac
                            }
                        }
                    }
                }
            }
        }
        var offsetMinutes: Int64 = 0
        if take("Z") {
        } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2), take(":"), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        }
        guard i == b.count else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= monthDays[Int(month - 1)],
              hour <= 23, minute <= 59, second <= (minute == 59 ? 60 : 59) else { return nil }
        let days = Instant.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        self.millisecondsSinceEpoch = seconds * 1000 + millis
    }

    /// The first day of the Gregorian calendar, 1582-10-15, in days since 1970-01-01: Java's
    /// `GregorianCalendar` (behind Clojure's `#inst` reader and printer, and transit-java's
    /// `~t`) counts dates before it in the Julian calendar.
    static var gregorianCutoverDay: Int64 { -141_427 }

    /// Days since 1970-01-01 of a date as Java's default `GregorianCalendar` reads it:
    /// Gregorian from 1582-10-15 on, Julian before (so `1000-01-01` is 5 days later than the
    /// proleptic Gregorian day of that name, and `1582-10-10` is the Julian 10th).
    static func days(fromCivil y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        if (y, m, d) >= (1582, 10, 15) { return days(fromGregorian: y, m, d) }
        return days(fromJulian: y, m, d)
    }

    /// The date of a day since 1970-01-01 as Java's default `GregorianCalendar` names it
    /// (Julian before `gregorianCutoverDay`).
    static func civil(fromDays z: Int64) -> (Int64, Int64, Int64) {
        z >= gregorianCutoverDay ? gregorian(fromDays: z) : julian(fromDays: z)
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days since 1970-01-01 of a proleptic Julian date (via the Julian day number).
    static func days(fromJulian year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let a = (14 - month) / 12
        let y = year + 4800 - a
        let m = month + 12 * a - 3
        let jdn = day + (153 * m + 2) / 5 + 365 * y + floorDiv(y, 4) - 32083
        return jdn - 2_440_588
    }

    /// The proleptic Julian date of a day since 1970-01-01.
    static func julian(fromDays z: Int64) -> (Int64, Int64, Int64) {
        let c = z + 2_440_588 + 32082
        let d = floorDiv(4 * c + 3, 1461)
        let e = c - floorDiv(1461 * d, 4)
        let m = (5 * e + 2) / 153
        return (d - 4800 + m / 10, m + 3 - 12 * (m / 10), e - (153 * m + 2) / 5 + 1)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func days(fromGregorian y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func gregorian(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// A 128-bit UUID (`#uuid "…"`, Transit `~u`), printed in lower-case canonical form.
public struct EDNUUID: Sendable, Hashable, CustomStringConvertible {
    /// The most significant 64 bits.
    public var high: UInt64
    /// The least significant 64 bits.
    public var low: UInt64

    /// A UUID from its two 64-bit halves.
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// A random (version 4) UUID.
    public static func random() -> EDNUUID {
        var g = SystemRandomNumberGenerator()
        let hi = (g.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let lo = (g.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return EDNUUID(high: hi, low: lo)
    }

    /// Parses the five hex groups of `java.util.UUID.fromString` (up to 8-4-4-4-12 digits each).
    public init?(_ text: String) {
        if let fast = EDNUUID(canonical: text) {
            self = fast
            return
        }
        let groups = text.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        let maxLen = [8, 4, 4, 4, 12]
        guard groups.count == 5 else { return nil }
        var values: [UInt64] = []
        for (k, g) in groups.enumerated() {
            guard !g.isEmpty, g.count <= maxLen[k], let v = UInt64(String(decoding: g, as: UTF8.self), radix: 16) else { return nil }
            values.append(v)
        }
        high = values[0] << 32 | values[1] << 16 | values[2]
        low = values[3] << 48 | values[4]
    }

    /// The canonical 36-character form, parsed in place.
    init?(canonical text: String) {
        var text = text
        let parsed: (UInt64, UInt64)? = text.withUTF8 { u in
            guard u.count == 36, u[8] == 45, u[13] == 45, u[18] == 45, u[23] == 45 else { return nil }
            var hi: UInt64 = 0, lo: UInt64 = 0, n = 0
            for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
                let b = u[i]
                let v: UInt64
                switch b {
                case 48...57: v = UInt64(b - 48)
                case 97...102: v = UInt64(b - 87)
                case 65...70: v = UInt64(b - 55)
                default: return nil
                }
                if n < 16 { hi = hi << 4 | v } else { lo = lo << 4 | v }
                n += 1
            }
            return (hi, lo)
        }
        guard let parsed else { return nil }
        high = parsed.0
        low = parsed.1
    }

    /// The lower-case hex digit of `nibble` (0–15), computed rather than looked up in a
    /// static array, which costs a lazy-initialisation check on every access.
    @inline(__always) static func hexDigit(_ nibble: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: nibble < 10 ? 48 + nibble : 87 + nibble)
    }

    /// Appends the canonical lower-case form to `out` (the printer's fast path).
    func write(into out: inout [UInt8]) {
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            let word = i < 16 ? high : low
            let shift = UInt64((15 - i % 16) * 4)
            out.append(EDNUUID.hexDigit((word >> shift) & 15))
        }
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case.
    public var description: String {
        func hex(_ v: UInt64, _ w: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: w - s.utf8.count) + s
        }
        return "\(hex(high >> 32, 8))-\(hex(high >> 16 & 0xFFFF, 4))-\(hex(high & 0xFFFF, 4))-\(hex(low >> 48, 4))-\(hex(low & 0xFFFF_FFFF_FFFF, 12))"
    }
}
