public import EDN

extension ConnectionRequest {
    /// The value of the cookie `name` in the `Cookie` header (RFC 6265 `name=value` pairs
    /// separated by `;`), decoded as Ring's cookie middleware decodes it: surrounding double
    /// quotes dropped, then percent-escapes and `+` decoded. The first cookie of that name
    /// wins; `nil` when there is none.
    public func cookie(_ name: String) -> String? {
        guard let header = header("cookie") else { return nil }
        for pair in header.split(separator: ";") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            guard pair[..<eq].trimmingSpaces() == name else { continue }
            var value = pair[pair.index(after: eq)...].trimmingSpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return FormDecoding.unescape(Array(value.utf8))
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}

/// Where a request's user id comes from: the ready-made `ChannelSocketServerOptions.userID`
/// functions, as Sente's `:user-id-fn` would be written for a Ring request.
///
/// ```swift
/// var options = ChannelSocketServerOptions(userID: UserIDSource.cookie("uid").userID)
/// ```
public enum UserIDSource: Sendable {
    /// A request parameter (query string, or form field of an Ajax POST): `?uid=alice`.
    case param(String)
    /// A request header, e.g. one a proxy in front sets after authenticating (`X-User`).
    case header(String)
    /// A cookie (`Cookie: uid=alice`), decoded as `ConnectionRequest.cookie(_:)` does.
    case cookie(String)
    /// A Ring-style session: the cookie `cookie` (Ring's default `ring-session`) holds a
    /// session key, `store` returns that session's map (nil for an unknown or expired key),
    /// and the uid is the map's `key` (default `:uid`), Sente's default
    /// `(get-in ring-req [:session :uid])`.
    case session(cookie: String = "ring-session", key: EDNValue = .kw("uid"),
                 store: @Sendable (String) -> EDNValue?)

    /// The user id function: the value found as a string (a session's value as it is), `nil`
    /// (no user) when absent.
    public var userID: @Sendable (ConnectionRequest) -> EDNValue? {
        switch self {
        case .param(let name): { $0.params[name].map(EDNValue.string) }
        case .header(let name): { $0.header(name).map(EDNValue.string) }
        case .cookie(let name): { $0.cookie(name).map(EDNValue.string) }
        case .session(let cookie, let key, let store):
            { request in
                guard let sessionKey = request.cookie(cookie), let session = store(sessionKey),
                      let uid = session[key], !uid.isNull else { return nil }
                return uid
            }
        }
    }
}
