import EDN
import Testing
import Transit

/// Inputs the libFuzzer targets in `Fuzz/` found (issue 13), kept as regression tests.
@Suite struct FuzzFindingTests {
    static func roundTrip(_ input: String, _ format: TransitFormat) throws -> (EDNValue, EDNValue) {
        let value = try TransitReader(format: .json).read(Array(input.utf8))
        let written = try TransitWriter(format: format).write(value)
        return (value, try TransitReader(format: format).read(written))
    }

    /// A value tagged `#`, `~`, `^` or `` ` `` with a string was written `"~#z:a"` (a tag string),
    /// `"~~x"` (the string `~x`)…: it must be written `["~#tag", rep]` and read back equal.
    @Test(arguments: [#"["~##","z:a"]"#, #"["~#~","x"]"#, #"["~#^","x"]"#, #"["~#`","x"]"#, #"[["~##","a"],{"~:k":["~#~","b"]}]"#])
    func reservedOneCharacterTags(input: String) throws {
        for format in TransitFormat.allCases {
            let (value, again) = try Self.roundTrip(input, format)
            #expect(again == value, "\(format): \(input)")
        }
    }

    /// Other one-character tags still take the short `"~Xrep"` form.
    @Test func oneCharacterTagShortForm() throws {
        let value = try TransitReader(format: .json).read(Array(#"["~#Q","x"]"#.utf8))
        #expect(String(decoding: try TransitWriter(format: .json).write(value), as: UTF8.self) == #"["~#'","~Qx"]"#)
    }
}
