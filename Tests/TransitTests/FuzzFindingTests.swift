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

    /// Fuzz finding 4 (transit-msgpack): values whose maps with collection keys were read from
    /// native msgpack maps (one level each) wrote as `["~#cmap", [...]]` (two) deeper than the
    /// reader's bound. Each input now either is refused on the first read or writes, in every
    /// encoding, a form that reads back equal.
    static let nativeCmapInputs = [
        "g5F+Y2qRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZHApX4kYcORkcA=",
        "g5GRkZGRkZGRkZGRkZmRkZGRkZGSkZGRkZGRkZGRkZGRkZmRkZGRkZGSkZGR/wCRkZGRkZEhkZGRkZGR/5GRkZGRkZGRkZHRkZGRkZGRkZGRkZGRkZGRkZGRk5FjkZGRkpGRkZGRkZGR0VN0cvNwkZGRkZFpbmeRkcORkcD/AJGRkZGRkSGRkZGRkZH/kZGRkZGRkZGRkdGRkZGRkZGRkZGRkZGRkZGRkZGTkWORkZGSkZGRkZGRkZHRU3Ry83CRkZGRkWluZ5GRw5GRwA==",
        "g5ODg4OD/4GBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgX5+fv/////////Nz8/Pz8/Pz8/Pz8/Pz88cgAACzgD///7OAP///86Bg4M/fHx8fHxJSUlJSUlJSUlJSUn/B//3//4B4AEAAAr//9D/////Cv///0QA8A==",
        "g4ODg4OD/4GBgYGBgYGDOuWDgYGBgYGBgYGBgYGBgYGBgURpY3Rpb25hgYGBgYGBgYGDgz98fHx8fElJSUlJSUlJSUlJSf////////8FSUlJAAABNDTLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy8vLy2Qgol4gOsvLy8vLy8vLy8vLy8vLy8v/Yf/Q/////wr/o3kgAf//RAXQcgAAAfA=",
        "g5ODg4OD/4GBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYEAfoGBgYGBgUJpbmFyeUZsgYGBg2OiXiChAAmiXiCDol4gAQOhAnSBg4M/fHx8fHxJSUlJSUlJSUlJSUn/////////BUlJSQAA/wEAAAAAAAAM///Q/wAAAAAAAAAA////Cv///0QF0ADw",
    ]

    @Test(arguments: nativeCmapInputs)
    func whatReadsWritesAFormThatReadsBack(base64: String) throws {
        let input = try #require(Base64.decode(base64))
        let value: EDNValue
        do { value = try TransitReader(format: .msgpack).read(input) } catch {
            #expect(error.kind == .tooDeep, "\(error)")   // all of these read before the fix
            return
        }
        for format in TransitFormat.allCases {
            let written = try TransitWriter(format: format).write(value)
            #expect(try TransitReader(format: format).read(written) == value, "\(format)")
        }
    }
}
