import EDN
import Testing
import Transit

/// The order the Transit writers write collections in (see `TransitWriter`): sets in
/// Clojure's hash order, as transit-clj writes the `PersistentHashSet` a Clojure peer holds;
/// maps in their own (insertion) order. Expected bytes are the exemplars' (written by
/// transit-clj), e.g. `set_simple.json` = `["~#set",[1,3,2]]` for `#{1 2 3}`.
@Suite struct OrderTests {
    @Test func setsInClojureHashOrderWhateverTheInsertionOrder() throws {
        for members in [[1, 2, 3], [3, 2, 1], [2, 1, 3]] as [[EDNValue]] {
            #expect(try text(.set(EDNSet(members))) == #"["~#set",[1,3,2]]"#)
            #expect(try text(.set(EDNSet(members)), .jsonVerbose) == #"{"~#set":[1,3,2]}"#)
            #expect(hex(try TransitWriter(format: .msgpack).write(.set(EDNSet(members)))) == "92a5" + hex(Array("~#set".utf8)) + "93010302")
        }
        // set_mixed.edn / set_mixed.json: nil first, then hash order.
        let mixed = try edn(#"#{"five" false :six seven 0 1 2.0 true nil "~eight"}"#)
        #expect(try text(mixed) == #"["~#set",[null,0,2.0,"~~eight",1,true,"five",false,"~$seven","~:six"]]"#)
    }

    @Test func mapsKeepTheirOrder() throws {
        // map_10_items.json: ten keyword keys in the order they were given (a sorted map in
        // the exemplar generator), not in hash order.
        let keys = (0..<10).map { EDNValue.kw("key000\($0)") }
        let m = EDNValue.map(EDNMap(keys: keys, values: (0..<10).map { .integer(Int64($0)) }))
        let expected = "[\"^ \"," + (0..<10).map { "\"~:key000\($0)\",\($0)" }.joined(separator: ",") + "]"
        #expect(try text(m) == expected)
        let reversed = EDNValue.map(EDNMap(keys: keys.reversed(), values: (0..<10).reversed().map { .integer(Int64($0)) }))
        #expect(try text(reversed).hasPrefix(#"["^ ","~:key0009",9,"~:key0008",8"#))
    }
}
