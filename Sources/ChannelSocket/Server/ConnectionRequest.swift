/// The parts of an HTTP request the protocol looks at, independent of the web framework:
/// what Sente's handlers see of a Ring request.
public struct ConnectionRequest: Sendable {
    /// `GET` or `POST`.
    public var method: String
    /// The request path (`/chsk`).
    public var path: String
    /// Query parameters merged with form parameters (form wins), keys and values decoded.
    public var params: [String: String]
    /// Header fields, names in lower case; repeated fields joined with `, `.
    public var headers: [String: String]
    /// True for a WebSocket upgrade request.
    public var isWebSocket: Bool
    /// The peer's address, for logs.
    public var remoteAddress: String?

    /// A request view.
    public init(method: String, path: String, params: [String: String] = [:], headers: [String: String] = [:],
                isWebSocket: Bool = false, remoteAddress: String? = nil) {
        var lowered: [String: String] = [:]
        lowered.reserveCapacity(headers.count)
        for (k, v) in headers { lowered[Self.lowercasedName(k)] = v }
        self.init(method: method, path: path, params: params, lowercasedHeaders: lowered, isWebSocket: isWebSocket,
                  remoteAddress: remoteAddress)
    }

    /// A request view whose header names are lower case already (an adapter that merged them).
    public init(method: String, path: String, params: [String: String], lowercasedHeaders: [String: String],
                isWebSocket: Bool = false, remoteAddress: String? = nil) {
        self.method = method
        self.path = path
        self.params = params
        self.headers = lowercasedHeaders
        self.isWebSocket = isWebSocket
        self.remoteAddress = remoteAddress
    }

    /// `name` in lower case (ASCII, as header names are), the same string when it already is.
    public static func lowercasedName(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? name.lowercased() : name
    }

    /// The `client-id` parameter, if present and not blank.
    public var clientID: String? {
        guard let id = params["client-id"], !id.allSatisfy(\.isWhitespace) else { return nil }
        return id
    }

    /// A header value by (case-insensitive) name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An HTTP response the engine wants sent: a status and a text body.
public struct HTTPReply: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// The body bytes.
    public var body: [UInt8]
    /// The content type, when the body has a meaningful one.
    public var contentType: String?

    /// A reply.
    public init(status: Int, body: [UInt8], contentType: String? = nil) {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    /// A reply with a text body.
    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8), contentType: "text/plain; charset=utf-8")
    }

    /// The body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// URL-encoded form decoding (`application/x-www-form-urlencoded` and query strings): `+` is a
/// space, `%XX` are bytes, keys are decoded too (`handshake%3F` → `handshake?`).
public enum FormDecoding {
    /// Decodes `a=1&b=x%20y` into a dictionary (later keys win).
    public static func decode(_ text: some StringProtocol) -> [String: String] {
        var s = String(text)
        return s.withUTF8 { decode(bytes: $0) }
    }

    /// Decodes the bytes of a form or query string (one pass, no intermediate arrays).
    /// Bytes that are not UTF-8 after percent-decoding become U+FFFD.
    public static func decode(bytes u: UnsafeBufferPointer<UInt8>) -> [String: String] {
        decode(bytes: u, validating: false)!
    }

    /// Decodes a form body or query string as `decode(bytes:)` does, or nil when a key or a
    /// value is not UTF-8 once percent-decoded (a message must not silently turn into U+FFFD).
    public static func decodeValidating(_ bytes: some Collection<UInt8>) -> [String: String]? {
        Array(bytes).withUnsafeBufferPointer { decode(bytes: $0, validating: true) }
    }

    static func decode(bytes u: UnsafeBufferPointer<UInt8>, validating: Bool) -> [String: String]? {
        var out: [String: String] = [:]
        out.reserveCapacity(4)
        let n = u.count
        var i = 0
        while i < n {
            var j = i, eq = -1
            while j < n && u[j] != UInt8(ascii: "&") {
                if eq < 0 && u[j] == UInt8(ascii: "=") { eq = j }
                j += 1
            }
            if j > i {
                let keyEnd = eq < 0 ? j : eq
                guard let key = unescape(bytes: UnsafeBufferPointer(rebasing: u[i..<keyEnd]), validating: validating),
                      let value = eq < 0 ? "" : unescape(bytes: UnsafeBufferPointer(rebasing: u[(eq + 1)..<j]), validating: validating)
                else { return nil }
                out[key] = value
            }
            i = j + 1
        }
        return out
    }

    /// Percent-decodes bytes (with `+` as space); invalid escapes are kept literally.
    public static func unescape(_ bytes: some Collection<UInt8>) -> String {
        Array(bytes).withUnsafeBufferPointer { unescape(bytes: $0) }
    }

    static func unescape(bytes a: UnsafeBufferPointer<UInt8>) -> String {
        unescape(bytes: a, validating: false)!
    }

    /// Percent-decoded text; with `validating`, nil when the bytes are not UTF-8.
    static func unescape(bytes a: UnsafeBufferPointer<UInt8>, validating: Bool) -> String? {
        // Most keys and values (client ids, uids, timestamps) need no decoding at all.
        if !a.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return validating ? String(validating: a, as: UTF8.self) : String(decoding: a, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(a.count)
        var i = 0
        while i < a.count {
            let b = a[i]
            if b == UInt8(ascii: "+") {
                out.append(32)
            } else if b == UInt8(ascii: "%"), i + 2 < a.count, let h = hex(a[i + 1]), let l = hex(a[i + 2]) {
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return validating ? String(validating: out, as: UTF8.self) : String(decoding: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 97...102: b - 87
        case 65...70: b - 55
        default: nil
        }
    }

    /// Percent-encodes like JavaScript's `encodeURIComponent` (what Sente's clients send).
    public static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        let hexDigits = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"),
                 UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
