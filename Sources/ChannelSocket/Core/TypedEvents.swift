public import EDN

/// An event's data that does not decode as the type a typed handler or a typed client call
/// asked for: which event, which type, where in the payload (the `codingPath` of the
/// `DecodingError`) and why.
///
/// ```text
/// :chat/send: data does not decode as SendMessage at attachments[0].size: Expected an integer, found string "big"
/// ```
public struct EventPayloadError: Error, Sendable, CustomStringConvertible {
    /// The event id.
    public let eventID: Keyword
    /// The Swift type asked for.
    public let typeName: String
    /// Where the mismatch is: the coding path's keys (`"attachments"`, `"0"`, `"size"`);
    /// empty when the data as a whole is of the wrong kind.
    public let codingPath: [String]
    /// The decoder's explanation.
    public let reason: String

    /// An error for an event's data that `type` could not decode from (`error` is usually a
    /// `DecodingError`).
    public init(eventID: Keyword, type: Any.Type, error: any Error) {
        self.eventID = eventID
        self.typeName = String(describing: type)
        let context: DecodingError.Context?
        var path: [any CodingKey] = []
        switch error as? DecodingError {
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .dataCorrupted(let c)?:
            context = c
            path = c.codingPath
        case .keyNotFound(let key, let c)?:
            context = c
            path = c.codingPath + [key]
        default:
            context = nil
        }
        self.codingPath = path.map { $0.intValue.map(String.init) ?? $0.stringValue }
        self.reason = context?.debugDescription ?? String(describing: error)
    }

    /// The path as `a.b[0].c` (`(root)` when empty).
    public var pathDescription: String {
        if codingPath.isEmpty { return "(root)" }
        var out = ""
        for part in codingPath {
            if Int(part) != nil { out += "[\(part)]" } else { out += out.isEmpty ? part : "." + part }
        }
        return out
    }

    public var description: String {
        "\(eventID): data does not decode as \(typeName) at \(pathDescription): \(reason)"
    }
}

extension Event {
    /// An event whose data is `payload`, encoded with `EDNEncoder` (struct fields as keyword
    /// keys): `Event(typed: "chat/send", SendMessage(…))`.
    public init<Payload: Encodable>(typed id: String, _ payload: Payload, encoder: EDNEncoder = EDNEncoder()) throws {
        self.init(Keyword(id), try encoder.encode(payload))
    }

    /// The event's data decoded as `type` (a one-element event's missing data decodes as
    /// `nil`); a mismatch is an `EventPayloadError` naming where.
    ///
    /// For an event the server engine read for a typed handler (see `EventRouter`), the data
    /// is decoded straight from the message as it was read (the byte decoders' flat tape),
    /// with no `EDNValue` tree built; otherwise the value goes through the same tape decoder.
    /// Both give the same results and errors as `EDNDecoder` over the value.
    public func decode<T: Decodable>(_ type: T.Type) throws(EventPayloadError) -> T {
        do {
            switch storage {
            case .tape(let t): return try TapeDecoder.decode(type, from: t.tape, at: t.node)
            case .value(let v): return try TapeDecoder.decode(type, fromTree: v ?? .null)
            }
        } catch {
            throw EventPayloadError(eventID: id, type: type, error: error)
        }
    }
}
