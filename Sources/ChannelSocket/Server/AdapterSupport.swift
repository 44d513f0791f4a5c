/// The framework-neutral parts of a web adapter (Hummingbird's, Vapor's, your own): building
/// the engine's view of a request, and the Ajax `POST` path from its form body to the reply.
/// An adapter only moves bytes: it calls `check`, `openWebSocket`, `startPoll` and
/// `ajaxPost(_:formBody:)`, and writes the `HTTPReply` it gets.

extension ConnectionRequest {
    /// The engine's view of any request: query parameters decoded (keys too, so
    /// `handshake%3F` is `handshake?`), header names lower-cased, a repeated header's values
    /// joined with `", "`.
    /// - Parameters:
    ///   - method: `GET` or `POST`.
    ///   - path: the request path, without its query.
    ///   - query: the raw (still percent-encoded) query string, without `?`.
    ///   - headerFields: every header field in arrival order (HTTP/1's `Host` included).
    ///   - isWebSocket: true for a WebSocket upgrade request.
    ///   - remoteAddress: the peer's address, for logs.
    public init(method: String, path: String, query: String?, headerFields: some Sequence<(String, String)>,
                isWebSocket: Bool, remoteAddress: String? = nil) {
        var merged: [String: String] = [:]
        for (name, value) in headerFields {
            let key = ConnectionRequest.lowercasedName(name)
            if let existing = merged[key] { merged[key] = existing + ", " + value } else { merged[key] = value }
        }
        self.init(method: method, path: path, params: FormDecoding.decode(query ?? ""), lowercasedHeaders: merged,
                  isWebSocket: isWebSocket, remoteAddress: remoteAddress)
    }

    /// Whether a WebSocket keeps header `name` in the request it holds for its life: only the
    /// `retained` ones when given (`ChannelSocketServerOptions.retainedRequestHeaders`), else
    /// all but those that only served the upgrade itself (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `-Version`, `-Extensions`). One request is held per connection, and
    /// headers are most of its memory.
    public static func keepsHeader(_ name: String, retained: Set<String>?) -> Bool {
        let name = lowercasedName(name)
        if let retained { return retained.contains(name) }
        switch name {
        case "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions": return false
        default: return true
        }
    }

    /// Splits a request target (`/chsk?client-id=a#frag`) into its path and raw query.
    public static func splitTarget(_ target: String) -> (path: String, query: String?) {
        var target = Substring(target)
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        guard let mark = target.firstIndex(of: "?") else { return (String(target), nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }
}

extension ChannelSocketServerOptions {
    /// The largest Ajax `POST` body an adapter should read: a form-encoded message of
    /// `maxMessageBytes` (percent-encoding triples bytes at most) and its other fields. Past
    /// it, answer `HTTPReply.postTooLarge(_:)` (413).
    public var maxPostBodyBytes: Int { maxMessageBytes * 3 + 4096 }
}

extension HTTPReply {
    /// `413`: an Ajax `POST` body over `maxPostBodyBytes`.
    public static func postTooLarge(_ options: ChannelSocketServerOptions) -> HTTPReply {
        HTTPReply(status: 413, text: "Message too big (limit \(options.maxMessageBytes) bytes)")
    }

    /// `400`: a `GET` that asked for a WebSocket (`Upgrade: websocket`) and was not upgraded
    /// (no `Connection: upgrade`, no key, WebSockets off): Sente's answer.
    public static let webSocketUpgradeFailed = HTTPReply(status: 400, text: "WebSocket upgrade failed")

    /// The content type to write: the reply's own, else `text/plain; charset=utf-8`.
    public var contentTypeOrText: String { contentType ?? "text/plain; charset=utf-8" }
}

extension ChannelSocketServer {
    /// Refuses an Ajax `POST` whose body is over `options.maxPostBodyBytes`: logged, counted
    /// (`RefusalReason.messageTooLarge`), `413`.
    public func refusePostTooLarge(_ bytes: Int? = nil) -> HTTPReply {
        countRefusal(.messageTooLarge)
        log(.warning, "ajax POST: body\(bytes.map { " of \($0) bytes" } ?? "") over \(options.maxPostBodyBytes) bytes; refused (413)")
        return .postTooLarge(options)
    }

    /// Answers an Ajax `POST` from its form body (at most `options.maxPostBodyBytes`, which
    /// the adapter enforces with `HTTPReply.postTooLarge`): the form's fields are merged into
    /// the request's parameters (form wins), the request is checked (`check(_:)`), and the
    /// event goes to the app (`post(_:)`). A form that is not UTF-8 once percent-decoded is
    /// refused with `400` (logged, counted), never turned into U+FFFD.
    public func ajaxPost(_ request: ConnectionRequest, formBody: some Collection<UInt8>) async -> HTTPReply {
        var request = request
        guard let form = FormDecoding.decodeValidating(formBody) else {
            countRefusal(.invalidUTF8)
            log(.warning, "ajax POST: form is not UTF-8 once decoded; refused (400)")
            return HTTPReply(status: 400, text: "Invalid UTF-8 in request")
        }
        for (k, v) in form { request.params[k] = v }
        if let rejection = check(request) { return rejection }
        return await post(request)
    }
}
