public import CoreMetrics
public import EDN

/// Which framing a server speaks.
public enum WireOption: String, Sendable, CaseIterable {
    /// Per connection: v2 handshake (which a 1.14 EDN client happens to read), then v1 for a
    /// connection whose first inbound message carries a `+`/`-` prefix; Ajax clients by their
    /// `handshake?` value (`true` ⇒ v1, `1` ⇒ v2) and POST prefixes.
    case auto
    /// Byte-exact Sente ≤ 1.16 (the 1.14 line).
    case v1
    /// Byte-exact Sente 1.21+.
    case v2
}

/// How the CSRF token of a request is checked.
public enum CSRFCheck: Sendable {
    /// No check (Sente with `csrf-token-fn` nil).
    case disabled
    /// Every request must carry this token (param `csrf-token`, header `X-CSRF-Token` or `X-XSRF-Token`).
    case token(String)
    /// The expected token for a request; `nil` rejects (as Sente does when the reference is nil).
    case perRequest(@Sendable (ConnectionRequest) -> String?)
}

/// Settings of a `ChannelSocketServer`. Defaults equal Sente's own (sente-protocol.md §15).
public struct ChannelSocketServerOptions: Sendable {
    /// The user id of a request; `nil` means "no user" (the nil-uid keyword of the client's
    /// generation). Default: `nil` for everyone.
    public var userID: @Sendable (ConnectionRequest) -> EDNValue?
    /// Extra data for the handshake (its third element); default none.
    public var handshakeData: @Sendable (ConnectionRequest) -> EDNValue?
    /// CSRF check; default off.
    public var csrf: CSRFCheck
    /// Allowed `Origin`s (e.g. `http://localhost:8090`); `nil` allows all (Sente's `:all`).
    /// Newest rule: an Origin header must be in the set; without one, the `Referer` must start
    /// with an allowed origin + `/`; with neither the request is refused. Under `wire: .v1`
    /// the 1.14 rule applies: an allowed Origin or an allowed Referer suffices.
    public var allowedOrigins: Set<String>?
    /// Called after CSRF and origin checks (Sente's `:authorized?-fn`); `false` refuses the
    /// request with `unauthorized`'s reply, by default 401 `Unauthorized request`.
    public var authorize: (@Sendable (ConnectionRequest) -> Bool)?
    /// The reply to a request `authorize` refused (Sente's `:unauthorized-fn`), e.g. a 403
    /// with a body of the app's; `nil`: 401 `Unauthorized request`.
    public var unauthorized: (@Sendable (ConnectionRequest) -> HTTPReply)?
    /// Called after `authorize` passes (Sente's `:?unauthorized-fn`): a non-nil reply refuses
    /// the request with that status and body; `nil` lets it through. One hook that decides
    /// and answers, e.g. 401 for no session and 403 for a user without the right.
    ///
    /// Every refusal by `authorize` or this hook applies to WebSocket upgrades (answered as
    /// an HTTP response instead of `101`), long-polls and POSTs alike, is logged and is
    /// counted as `RefusalReason.unauthorized`.
    public var authorization: (@Sendable (ConnectionRequest) -> HTTPReply?)?
    /// Called first on every request; a non-nil reply is sent instead (Sente 1.22
    /// `:reject-fn`), logged and counted as `RefusalReason.rejected`.
    public var reject: (@Sendable (ConnectionRequest) -> HTTPReply?)?
    /// The framing spoken.
    public var wire: WireOption
    /// The payload packer (both ends must agree).
    public var packer: any Packer
    /// Server keep-alive window (`ws-kalive-ms`, 25 s); halved for v2 clients as Sente does.
    public var wsKeepAlive: Duration
    /// How long a v2 client may stay silent after a server ping before it is closed (10 s).
    public var wsPingTimeout: Duration
    /// How long a long-poll (and an Ajax reply) is held (`lp-timeout-ms`, 20 s; < 60 s).
    public var longPollTimeout: Duration
    /// Push batching window for WebSocket clients (`send-buf-ms-ws`, 30 ms).
    public var sendBufferWS: Duration
    /// Push batching window for Ajax clients (`send-buf-ms-ajax`, 100 ms).
    public var sendBufferAjax: Duration
    /// Grace before a closed WebSocket client counts as gone; `nil` (default) is Sente's for
    /// the wire spoken: 5 s under `wire: .v1` (1.14), 2.5 s otherwise
    /// (`ms-allow-reconnect-before-close-ws`).
    public var wsReconnectGrace: Duration?
    /// Grace before an Ajax client between polls counts as gone (5 s).
    public var ajaxReconnectGrace: Duration
    /// Accept WebSocket upgrades (default). Off, the server is Ajax-only: upgrades are refused
    /// and `auto` clients fall back to long-polling (useful behind proxies that break WS).
    public var allowWebSocket: Bool = true
    /// The request headers a WebSocket keeps for its life (lower-case names; in
    /// `ServerEventMessage.request` of every event it sends). The upgrade request is checked
    /// (CSRF, origin, `userID`, `authorize`) with all its headers; afterwards only these stay,
    /// so a connection's memory does not grow with what a client chose to send. Default: `host`,
    /// `origin`, `referer`, `user-agent`, `cookie`, `authorization`, `accept-language`,
    /// `x-forwarded-for`, `x-forwarded-proto`, `x-real-ip`, `x-csrf-token`. `nil` keeps every
    /// header but those of the upgrade itself.
    public var retainedRequestHeaders: Set<String>? = [
        "host", "origin", "referer", "user-agent", "cookie", "authorization", "accept-language",
        "x-forwarded-for", "x-forwarded-proto", "x-real-ip", "x-csrf-token",
    ]
    /// Largest inbound message (WS message or POST body) accepted: 1 MiB. Beyond Sente, which
    /// has none: larger WS messages close the socket with 1009, larger POSTs get 413.
    public var maxMessageBytes: Int
    /// Largest outbound push frame: a WebSocket message, or the body of an Ajax poll's answer.
    /// `nil` (default) is `maxMessageBytes` (1 MiB), which is also the limit of chsk's own
    /// client. Pushes batched within a window are split into several frames that each fit;
    /// one poll answers as many waiting pushes as fit and leaves the rest for the next poll.
    /// A single event whose frame would be larger is refused to the caller of `send` /
    /// `broadcast` (`PushError.tooLarge`), logged and counted (`RefusalReason.eventTooLarge`).
    public var maxOutboundMessageBytes: Int?
    /// Bytes of pushes one Ajax client may have waiting between its polls: 4 MiB by default.
    /// Past it the client's waiting pushes are dropped and the client is forgotten (its next
    /// poll gets a new handshake, so the client knows to resync), with a log line and a count
    /// (`RefusalReason.ajaxPendingOverflow`). Nothing is dropped silently.
    public var maxPendingBytesPerAjaxClient: Int = 4 << 20
    /// Time source.
    public var clock: any ChannelSocketClock
    /// Where the server's metrics go (`ServerMetrics`); nil: the process's
    /// `MetricsSystem.factory` (swift-metrics' no-op handler unless bootstrapped).
    public var metricsFactory: (any MetricsFactory)?

    /// Options with Sente's defaults.
    public init(
        userID: @escaping @Sendable (ConnectionRequest) -> EDNValue? = { _ in nil },
        handshakeData: @escaping @Sendable (ConnectionRequest) -> EDNValue? = { _ in nil },
        csrf: CSRFCheck = .disabled,
        allowedOrigins: Set<String>? = nil,
        authorize: (@Sendable (ConnectionRequest) -> Bool)? = nil,
        reject: (@Sendable (ConnectionRequest) -> HTTPReply?)? = nil,
        unauthorized: (@Sendable (ConnectionRequest) -> HTTPReply)? = nil,
        authorization: (@Sendable (ConnectionRequest) -> HTTPReply?)? = nil,
        wire: WireOption = .auto,
        packer: any Packer = EDNPacker(),
        wsKeepAlive: Duration = .milliseconds(25_000),
        wsPingTimeout: Duration = .milliseconds(10_000),
        longPollTimeout: Duration = .milliseconds(20_000),
        sendBufferWS: Duration = .milliseconds(30),
        sendBufferAjax: Duration = .milliseconds(100),
        wsReconnectGrace: Duration? = nil,
        ajaxReconnectGrace: Duration = .milliseconds(5_000),
        maxMessageBytes: Int = 1 << 20,
        clock: any ChannelSocketClock = SystemClock()
    ) {
        self.userID = userID
        self.handshakeData = handshakeData
        self.csrf = csrf
        self.allowedOrigins = allowedOrigins
        self.authorize = authorize
        self.reject = reject
        self.unauthorized = unauthorized
        self.authorization = authorization
        self.wire = wire
        self.packer = packer
        self.wsKeepAlive = wsKeepAlive
        self.wsPingTimeout = wsPingTimeout
        self.longPollTimeout = longPollTimeout
        self.sendBufferWS = sendBufferWS
        self.sendBufferAjax = sendBufferAjax
        self.wsReconnectGrace = wsReconnectGrace
        self.ajaxReconnectGrace = ajaxReconnectGrace
        self.maxMessageBytes = maxMessageBytes
        self.clock = clock
    }

    /// Throws when a setting is out of range (Sente refuses `lp-timeout-ms` ≥ 60 000: browser
    /// clients give up on a poll after 60 s).
    public func validate() throws(OptionsError) {
        if longPollTimeout >= .seconds(60) { throw OptionsError("lp-timeout-ms must be < 60000 (browser XHR timeout)") }
        if longPollTimeout <= .zero { throw OptionsError("lp-timeout-ms must be positive") }
        if wsKeepAlive <= .zero { throw OptionsError("ws-kalive-ms must be positive") }
        if wsPingTimeout <= .zero { throw OptionsError("ws-ping-timeout-ms must be positive") }
        if sendBufferWS < .zero || sendBufferAjax < .zero { throw OptionsError("send buffer windows must be >= 0") }
        if maxMessageBytes < 64 { throw OptionsError("max-message-bytes must be at least 64") }
        if let cap = maxOutboundMessageBytes, cap < 64 { throw OptionsError("max-outbound-message-bytes must be at least 64") }
        if maxPendingBytesPerAjaxClient < 64 { throw OptionsError("max-pending-bytes-per-ajax-client must be at least 64") }
    }
}

/// A setting out of range.
public struct OptionsError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// An options error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ChannelSocketServerOptions {
    /// The WebSocket reconnect grace in force: the set one, else 5 s for 1.14 (`wire: .v1`)
    /// and 2.5 s for newer Sente.
    var effectiveWSReconnectGrace: Duration {
        wsReconnectGrace ?? (wire == .v1 ? .milliseconds(5_000) : .milliseconds(2_500))
    }

    /// The outbound frame cap in force: the set one, else `maxMessageBytes`.
    var effectiveMaxOutboundMessageBytes: Int { maxOutboundMessageBytes ?? maxMessageBytes }
}
