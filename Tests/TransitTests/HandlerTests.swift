import EDN
import Testing
import Transit

struct Point: Sendable, Equatable {
    var x: Int64
    var y: Int64
}

/// Stands in for Joda's DateTime in Sente's FAQ example.
struct DateTime: Sendable {
    var millis: Int64
}

struct PointError: Error {}

@Suite struct HandlerTests {
    var writeHandlers: TransitWriteHandlers {
        var h = TransitWriteHandlers()
        h.register(Point.self, tag: "point") { p in [.integer(p.x), .integer(p.y)] }
        // Sente FAQ: (transit/write-handler (constantly "m") #(.getMillis %) …)
        h.register(DateTime.self, tag: "m") { d in .integer(d.millis) }
        return h
    }

    @Test func writeHandlerForASwiftType() throws {
        let w = TransitWriter(format: .json, options: .init(handlers: writeHandlers))
        let out = try w.write(any: [Point(x: 1, y: 2), Point(x: 3, y: 4)])
        #expect(String(decoding: out, as: UTF8.self) == #"[["~#point",[1,2]],["^0",[3,4]]]"#)
        let verbose = TransitWriter(format: .jsonVerbose, options: .init(handlers: writeHandlers))
        #expect(String(decoding: try verbose.write(any: Point(x: 1, y: 2)), as: UTF8.self) == #"{"~#point":[1,2]}"#)
    }

    @Test func jodaStyleHandlerWritesAnInstant() throws {
        let w = TransitWriter(format: .json, options: .init(handlers: writeHandlers))
        let out = try w.write(any: ["at": DateTime(millis: 946_728_000_000)])
        #expect(String(decoding: out, as: UTF8.self) == #"["^ ","at","~m946728000000"]"#)
        #expect(try TransitReader(format: .json).read(out) == ["at": .instant(Instant(millisecondsSinceEpoch: 946_728_000_000))])
        let mp = TransitWriter(format: .msgpack, options: .init(handlers: writeHandlers))
        #expect(try TransitReader(format: .msgpack).read(try mp.write(any: DateTime(millis: 5))) == .instant(Instant(millisecondsSinceEpoch: 5)))
    }

    @Test func swiftValuesWithoutHandlers() throws {
        let h = writeHandlers
        let value: [String: Any] = ["n": 1, "d": 1.5, "s": "x", "b": true, "list": [1, 2], "opt": Optional<Int>.none as Any,
                                    "kw": Keyword("k"), "p": Point(x: 0, y: 0), "bytes": [UInt8]([1])]
        let v = try h.value(from: value)
        #expect(v[.string("n")] == 1)
        #expect(v[.string("d")] == 1.5)
        #expect(v[.string("list")] == [1, 2])
        #expect(v[.string("opt")] == EDNValue.null)
        #expect(v[.string("kw")] == .kw("k"))
        #expect(v[.string("p")] == .tagged("point", [0, 0]))
        #expect(v[.string("bytes")] == .bytes([1]))
        #expect(throws: TransitError.self) { try h.value(from: PointError()) }
    }

    @Test func readHandlerTagToValue() throws {
        var r = TransitReadHandlers()
        r.register(tag: "point") { rep in
            guard case .vector(let xy) = rep, xy.count == 2 else { throw PointError() }
            return [.kw("x"): xy[0], .kw("y"): xy[1]]
        }
        r.register(tag: "X") { rep in .string("X:" + (rep.stringValue ?? "")) }
        let reader = TransitReader(format: .json, options: .init(handlers: r))
        #expect(try reader.read(#"[["~#point",[1,2]],["^0",[3,4]],"~Xabc"]"#) == [[.kw("x"): 1, .kw("y"): 2], [.kw("x"): 3, .kw("y"): 4], "X:abc"])
        #expect(try TransitReader(format: .jsonVerbose, options: .init(handlers: r)).read(#"{"~#point":[5,6]}"#) == [.kw("x"): 5, .kw("y"): 6])
        // A failing handler gives a typed error with a position.
        do {
            _ = try reader.read(#"[["~#point",[1]]]"#)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .handlerFailed)
            #expect(error.line == 1)
        }
    }

    @Test func customHandlersOverrideBuiltIns() throws {
        var r = TransitReadHandlers()
        r.register(tag: "set") { rep in .list(rep.sequenceElements ?? []) }
        r.register(tag: "u") { rep in .string("uuid " + (rep.stringValue ?? "")) }
        let reader = TransitReader(format: .json, options: .init(handlers: r))
        #expect(try reader.read(#"[["~#set",[1]],"~uabc"]"#) == [.list([1]), "uuid abc"])
    }

    @Test func decodeToSwiftType() throws {
        var r = TransitReadHandlers()
        r.register(tag: "point", as: Point.self) { rep in
            guard case .vector(let xy) = rep, xy.count == 2, let x = xy[0].int64Value, let y = xy[1].int64Value else { throw PointError() }
            return Point(x: x, y: y)
        }
        let w = TransitWriter(format: .msgpack, options: .init(handlers: writeHandlers))
        let bytes = try w.write(any: Point(x: 7, y: 8))
        let value = try TransitReader(format: .msgpack, options: .init(handlers: r)).read(bytes)
        #expect(try r.decode(value, as: Point.self) == Point(x: 7, y: 8))
        #expect(throws: TransitError.self) { try r.decode(.integer(1), as: Point.self) }
    }

    @Test func packerInterplayThroughCodable() throws {
        // Codable values reach Transit through EDNEncoder.
        struct Msg: Codable { var room: String; var n: Int }
        let v = try EDNEncoder().encode(Msg(room: "lobby", n: 2))
        let out = try TransitWriter(format: .json).write(v)
        #expect(String(decoding: out, as: UTF8.self) == #"["^ ","~:room","lobby","~:n",2]"#)
        #expect(try EDNDecoder().decode(Msg.self, from: try TransitReader(format: .json).read(out)).room == "lobby")
    }
}
