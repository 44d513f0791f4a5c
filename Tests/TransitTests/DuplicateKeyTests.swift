import EDN
import Testing
import Transit

/// Duplicate map keys in Transit: transit-java (`MapBuilderImpl`: `HashMap.put`) and
/// transit-clj (`map-builder`: `assoc!` on a transient map) keep the last value, at the
/// first key's place and with the first key; sets (`conj!`) keep the first member. chsk's
/// readers do the same, silently, also for keys that are equal only once decoded (a cached
/// `"^0"` for `"~:abc"`, `"~i1"` and `"~n1"`).
@Suite struct DuplicateKeyTests {
    @Test func lastValueWinsAtTheFirstKeysPlace() throws {
        #expect(EDNPrinter.string(try read(#"["^ ","~:a",1,"~:b",2,"~:a",3]"#)) == "{:a 3, :b 2}")
        // The second "~:abc" is written as the cache code "^0": equal only after decoding.
        #expect(EDNPrinter.string(try read(#"["^ ","~:abc",1,"~:b",2,"^0",3]"#)) == "{:abc 3, :b 2}")
        // JSON-verbose objects.
        #expect(EDNPrinter.string(try TransitReader(format: .jsonVerbose).read(Array(#"{"~:a":1,"~:b":2,"~:a":3}"#.utf8))) == "{:a 3, :b 2}")
        // cmap entries.
        #expect(EDNPrinter.string(try read(#"["~#cmap",[[1],"x",[2],"y",[1],"z"]]"#)) == "{[1] \"z\", [2] \"y\"}")
    }

    @Test func theFirstOfEqualKeysIsKept() throws {
        // 1 and 1N are = in Clojure: the map keeps the key 1 (a long), with the last value.
        #expect(EDNPrinter.string(try read(#"["^ ","~i1","a","~n1","b"]"#)) == "{1 \"b\"}")
        #expect(EDNPrinter.string(try read(#"["^ ","~n1","a","~i1","b"]"#)) == "{1N \"b\"}")
        // Sets keep the first member.
        #expect(EDNPrinter.string(try read(#"["~#set",["~n1",1]]"#)) == "#{1N}")
    }

    @Test func msgpackMapsAlike() throws {
        // {"~:abc" 1, "^0" 2} as a MessagePack map: one entry, the last value.
        let bytes: [UInt8] = [0x82, 0xA5] + Array("~:abc".utf8) + [0x01, 0xA2] + Array("^0".utf8) + [0x02]
        #expect(EDNPrinter.string(try TransitReader(format: .msgpack).read(bytes)) == "{:abc 2}")
    }

    @Test func aMapOfDistinctKeysIsNotChanged() throws {
        // Control for the tests above: without duplicates every entry is kept, in order.
        #expect(EDNPrinter.string(try read(#"["^ ","~:a",1,"~:abc",2,"^0",3]"#)) == "{:a 1, :abc 3}")
        #expect(try read(#"["^ ","~:a",1,"~:b",2,"~:c",3]"#).mapValue?.count == 3)
    }
}
