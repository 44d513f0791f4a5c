import EDN
import Testing

/// Clojure's hashes and hash-collection order. Every expected value below was printed by real
/// Clojure 1.11.1 (`(hash (clojure.tools.reader.edn/read-string {:default tagged-literal} text))`
/// and `pr-str` of the same read), not computed by chsk.
@Suite struct HashOrderTests {
    @Test func hasheqMatchesClojure() throws {
        let cases: [(String, Int32)] = [
            ("nil", 0),
            ("true", 1231),
            ("false", 1237),
            ("0", 0),
            ("1", 1392991556),
            ("-1", 1651860712),
            ("42", 1871679806),
            ("9223372036854775807", -2106506049),
            ("-9223372036854775808", 1366273829),
            ("1N", 1392991556),
            ("18446744073709551616", 961),
            ("-18446744073709551616", -961),
            ("9223372036854775808", -2147483648),
            ("1.5", 1073217536),
            ("-0.0", 0),
            ("0.0", 0),
            ("##NaN", 2146959360),
            ("##Inf", 2146435072),
            ("##-Inf", -1048576),
            ("1.0E-5", -1241018300),
            ("1.0M", 31),
            ("1.50M", 466),
            ("100M", 29),
            ("0.00M", 0),
            ("-3.14M", -9732),
            ("12345678901234567890.5M", 1337890915),
            ("1/3", 2),
            ("-7/2", -5),
            ("12345678901234567890123/7", -2057333643),
            ("\"\"", 0),
            ("\"a\"", 1455541201),
            ("\"hello world\"", -1522757468),
            ("\"h\u{E9}llo\"", 162369042),
            ("\"\u{1F600}x\"", -1998616508),
            ("\\a", 97),
            ("\\newline", 10),
            ("\\\u{E9}", 233),
            (":a", -2123407586),
            (":ns/a", -2123428585),
            (":my.app/event-name", 2013569249),
            ("a", -482876059),
            ("ns/a", -482897058),
            ("/", -1371932971),
            ("clojure.core//", -601992542),
            ("#uuid \"5a2c8c04-0c46-4c4b-8e5a-9a4bd3d2f1d1\"", 199404501),
            ("#inst \"2000-01-01T00:00:00.000-00:00\"", 1791995100),
            ("#inst \"1969-12-31T23:59:59.999-00:00\"", 0),
            ("[]", -2017569654),
            ("()", -2017569654),
            ("[1 2 3]", 736442005),
            ("(1 2 3)", 736442005),
            ("{}", -15128758),
            ("{:a 1}", 1772842048),
            ("{:a 1 :b [1 2]}", 568036496),
            ("#{}", -15128758),
            ("#{1 2 3}", 439094965),
            ("[nil {:a #{1}}]", -1304595880),
            ("#my/t [1 :a]", 1697384915),
            ("#my/t {:a 1 :b 2.5}", -510193186),
            ("#my/t #{\"x\" \\c}", 683473573),
            ("#my/t nil", 683473354),
            ("#uri \"http://x\"", 778863662),
            ("#bytes \"AAE=\"", 1340367552),
            ("#my.app/p (1 -0.0 1.5M 2N 1/2 true)", 929152312),
            ("#my/t #inst \"2000-01-01T00:00:00.000-00:00\"", -1819498842),
        ]
        for (text, expected) in cases {
            let value = try EDNReader.read(text)
            #expect(ClojureHash.hasheq(value) == expected, "(hash \(text))")
        }
    }

    @Test func prStrOrderMatchesClojure() throws {
        let cases: [(String, String)] = [
            ("#{1 2 3}",
             "#{1 3 2}"),
            ("#{\"Aa\" \"BB\" 1 2 3 4 5}",
             "#{1 4 3 2 \"Aa\" \"BB\" 5}"),
            ("#{\"BB\" \"Aa\" 1 2 3 4 5}",
             "#{1 4 3 2 \"BB\" \"Aa\" 5}"),
            ("#{:b nil :a 0 \"\"}",
             "#{nil 0 \"\" :b :a}"),
            ("#{0 \"\" nil 0.0M}",
             "#{nil 0 \"\" 0.0M}"),
            ("{:a 1 :b 2 :c 3 :d 4 :e 5 :f 6 :g 7 :h 8}",
             "{:a 1, :b 2, :c 3, :d 4, :e 5, :f 6, :g 7, :h 8}"),
            ("{:a 1 :b 2 :c 3 :d 4 :e 5 :f 6 :g 7 :h 8 :i 9}",
             "{:e 5, :g 7, :c 3, :h 8, :b 2, :d 4, :f 6, :i 9, :a 1}"),
            ("{:a 1 :b 2 :c 3 :d 4 :e 5 :f 6 :g 7 :h 8 nil 9}",
             "{nil 9, :e 5, :g 7, :c 3, :h 8, :b 2, :d 4, :f 6, :a 1}"),
            ("#{[1 2] (3) {:a 1} #{} #my/t 1 #inst \"2000-01-01T00:00:00.000-00:00\" 1.5M 1/2 \\x}",
             "#{{:a 1} 1/2 #{} #my/t 1 (3) 1.5M \\x #inst \"2000-01-01T00:00:00.000-00:00\" [1 2]}"),
            ("[#{33 1 65 97} #{97 65 33 1}]",
             "[#{65 1 33 97} #{65 1 33 97}]"),
            ("{0 0 1 1 2 2 3 3 4 4 5 5 6 6 7 7 8 8 9 9 10 10 11 11 12 12 13 13 14 14 15 15 16 16 17 17 18 18 19 19 20 20 21 21 22 22 23 23 24 24 25 25 26 26 27 27 28 28 29 29 30 30 31 31 32 32 33 33 34 34 35 35}",
             "{0 0, 7 7, 20 20, 27 27, 1 1, 24 24, 4 4, 15 15, 21 21, 31 31, 32 32, 33 33, 13 13, 22 22, 29 29, 6 6, 28 28, 25 25, 34 34, 17 17, 3 3, 12 12, 2 2, 23 23, 35 35, 19 19, 11 11, 9 9, 5 5, 14 14, 26 26, 16 16, 30 30, 10 10, 18 18, 8 8}"),
            ("#inst \"1000-01-01\"",
             "#inst \"1000-01-01T00:00:00.000-00:00\""),
            ("#inst \"1582-10-14T12:00:00.000-00:00\"",
             "#inst \"1582-10-24T12:00:00.000-00:00\""),
            // Clojure reads #inst "0000-03-01" and prints it as "0001-03-01…" (no year 0 in
            // java.util.Date), another moment: chsk refuses it on reading
            // (EDNFuzzFindingTests.instantsThatWouldPrintAsAnotherMomentAreRefused).
        ]
        for (input, clojure) in cases {
            #expect(EDNPrinter.string(try EDNReader.read(input)) == clojure, "(pr-str \(input))")
        }
    }

    @Test func instantsBeyondTheYearRangePrintAsClojureDoes() {
        #expect(EDNValue.instant(Instant(millisecondsSinceEpoch: .max)).description == #"#inst "292278994-08-17T07:12:55.807-00:00""#)
        #expect(EDNValue.instant(Instant(millisecondsSinceEpoch: .min)).description == #"#inst "292269055-12-02T16:47:04.192-00:00""#)
        #expect(EDNValue.instant(Instant(millisecondsSinceEpoch: -62_135_769_600_001)).description == #"#inst "0001-12-31T23:59:59.999-00:00""#)
    }

    @Test func smallMapsKeepInsertionOrderLargeOnesDoNot() throws {
        let eight = try EDNReader.read("{:h 8 :g 7 :f 6 :e 5 :d 4 :c 3 :b 2 :a 1}")
        #expect(eight.description == "{:h 8, :g 7, :f 6, :e 5, :d 4, :c 3, :b 2, :a 1}")
        // Nine entries: the same order whatever the insertion order.
        let nine = try EDNReader.read("{:i 9 :h 8 :g 7 :f 6 :e 5 :d 4 :c 3 :b 2 :a 1}")
        #expect(nine.description == "{:e 5, :g 7, :c 3, :h 8, :b 2, :d 4, :f 6, :i 9, :a 1}")
        // --sort's printing keeps the sorted order.
        #expect(String(decoding: EDNPrinter.bytesInInsertionOrder(EDNPrinter.sorted(nine)), as: UTF8.self)
                == "{:a 1, :b 2, :c 3, :d 4, :e 5, :f 6, :g 7, :h 8, :i 9}")
    }
}
