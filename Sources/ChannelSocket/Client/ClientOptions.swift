public import EDN

/// Which transport a client uses (Sente's `:type`).
public enum ClientType: String, Sendable, CaseIterable {
    /// WebSocket first; permanent downgrade to Ajax when the WebSocket fails before it ever
    /// completed a handshake (sente-protocol.md §10.4).
    case auto
    /// WebSocket only.
    case ws
    /// Ajax long-polling only.
    case ajax
}

/// How a client picks its wire generation.
public enum ProtocolOption: String, Sendable, CaseIterable {
    /// From the server's handshake (`-` prefix ⇒ v1).
    case auto
    /// Sente ≤ 1.16 servers.
    case v1
    /// Sente 1.18+ servers.
    case v2
}

/// Reconnect delays: Sente's exp-backoff (attempt n waits 2^(n-1)…2^n s), but capped and with
/// full jitter, beyond Sente, so no client waits 17 minutes and a restarted server is not hit
/// by every client at once. Never below `floor`, so there is no busy loop.
public struct Backoff: Sendable {
    /// Largest delay.
    public var cap: Duration
    /// Smallest delay.
    public var floor: Duration

    /// Defaults: cap 30 s, floor 250 ms.
    public init(cap: Duration = .seconds(30), floor: Duration = .milliseconds(250)) {
        self.cap = cap
        self.floor = floor
    }

    /// The delay before reconnect attempt `attempt` (1-based): uniform in
    /// [floor, min(cap, 2^attempt s)].
    public func delay(attempt: Int) -> Duration {
        let ceilingMs = min(cap.milliseconds, Int64(1000) << Int64(min(attempt, 30)))
        let floorMs = min(floor.milliseconds, ceilingMs)
        return .milliseconds(Int64.random(in: floorMs...max(floorMs, ceilingMs)))
    }
}

/// Settings of a `ChannelSocketClient`. Defaults equal Sente's client defaults unless noted.
public struct ChannelSocketClientOptions: Sendable {
    /// Transport choice.
    public var type: ClientType
    /// Wire generation.
    public var protocolGeneration: ProtocolOption
    /// The client id: a random UUID by default, stable across reconnects.
    public var clientID: String
    /// CSRF token sent as the `csrf-token` param (WS, v1 POST) and `X-CSRF-Token` header (Ajax).
    public var csrfToken: String?
    /// Extra query parameters (e.g. auth) on every request.
    public var params: [String: String]
    /// Extra headers on every request (also on the WebSocket upgrade).
    public var headers: [String: String]
    /// Payload packer (must match the server's).
    public var packer: any Packer
    /// Idle time before a client ping (20 s; halved for v2 servers, as newest Sente does).
    public var wsKeepAlive: Duration
    /// How long a v2 ping waits for `"pong"` before reconnecting (5 s).
    public var wsPingTimeout: Duration
    /// Ajax request timeout (60 s, the browser client's XHR timeout).
    public var ajaxTimeout: Duration
    /// Reconnect policy.
    public var backoff: Backoff
    /// Deliver pushes wrapped as `[:chsk/recv event]`; `nil` (default) follows the server's
    /// generation as Sente's clients did: wrapped for v1 (≤ 1.17's default), bare for v2.
    public var wrapReceivedEvents: Bool?
    /// Largest inbound message.
    public var maxMessageBytes: Int
    /// Time source.
    public var clock: any ChannelSocketClock
    /// How the server's TLS certificate is checked (`wss://`, `https://`): the system's trust
    /// roots by default, or a CA file, or no check at all.
    public var tls: ClientTLS

    /// Options with Sente's client defaults.
    public init(type: ClientType = .auto, protocolGeneration: ProtocolOption = .auto,
                clientID: String = EDNUUID.random().description, csrfToken: String? = nil,
                params: [String: String] = [:], headers: [String: String] = [:],
                packer: any Packer = EDNPacker(),
                wsKeepAlive: Duration = .seconds(20), wsPingTimeout: Duration = .seconds(5),
                ajaxTimeout: Duration = .seconds(60), backoff: Backoff = Backoff(),
                wrapReceivedEvents: Bool? = nil, maxMessageBytes: Int = 1 << 20,
                clock: any ChannelSocketClock = SystemClock(), tls: ClientTLS = ClientTLS()) {
        self.type = type
        self.protocolGeneration = protocolGeneration
        self.clientID = clientID
        self.csrfToken = csrfToken
        self.params = params
        self.headers = headers
        self.packer = packer
        self.wsKeepAlive = wsKeepAlive
        self.wsPingTimeout = wsPingTimeout
        self.ajaxTimeout = ajaxTimeout
        self.backoff = backoff
        self.wrapReceivedEvents = wrapReceivedEvents
        self.maxMessageBytes = maxMessageBytes
        self.clock = clock
        self.tls = tls
    }
}

/// How a client checks the server's TLS certificate (`wss://`, `https://`), as curl's
/// `--cacert` and `--insecure` do. The host name (or, for an IP address such as
/// `wss://127.0.0.1`, the address) must match the certificate unless `insecure`.
public struct ClientTLS: Sendable, Hashable {
    /// A PEM file of the certificate authorities (or the self-signed certificate) to trust
    /// instead of the system's; nil: the system's trust roots.
    public var caCertificatePath: String?
    /// No check at all: any certificate for any name is accepted (a test server with a
    /// self-signed certificate). The connection is still encrypted, but not authenticated.
    public var insecure: Bool

    /// The system's trust roots and full verification, unless told otherwise.
    public init(caCertificatePath: String? = nil, insecure: Bool = false) {
        self.caCertificatePath = caCertificatePath
        self.insecure = insecure
    }

    /// True for the defaults (system trust roots, full verification).
    public var isDefault: Bool { caCertificatePath == nil && !insecure }
}

/// Why a request got no reply: Sente's `:chsk/closed`, `:chsk/timeout`, `:chsk/error`.
public enum RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not connected when sending (Sente answers at once, as here).
    case closed
    /// No reply within the timeout.
    case timeout
    /// The send or the HTTP request failed.
    case error(String)
    /// Sent after `start()` but the connection did not open within the timeout (or the server
    /// refused it): why, as `OpenError` says it.
    case notOpen(String)

    /// The Sente keyword a ClojureScript callback would receive.
    public var keyword: Keyword {
        switch self {
        case .closed, .notOpen: Reserved.closed
        case .timeout: Reserved.timeout
        case .error: Reserved.error
        }
    }

    public var description: String {
        switch self {
        case .closed: ":chsk/closed (not connected)"
        case .timeout: ":chsk/timeout (no reply in time)"
        case .error(let why): ":chsk/error (\(why))"
        case .notOpen(let why): ":chsk/closed (not connected: \(why))"
        }
    }
}

/// Why `ChannelSocketClient.waitUntilOpen` gave up.
public enum OpenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not open within the timeout; the last failure to connect, if any (refused, unreachable…).
    case timeout(lastFailure: TransportError?)
    /// The server answered the WebSocket upgrade or the Ajax handshake with an HTTP 4xx.
    case rejected(status: Int, message: String)
    /// The server's handshake is unreadable with this client's packer (another packer, or no
    /// Sente server at all).
    case incompatible(String)
    /// The client is not started, or was disconnected while waiting.
    case stopped
    /// The attempt to connect failed (with `failFast`): refused, unreachable, TLS, …
    case unreachable(TransportError)

    public var description: String {
        switch self {
        case .timeout(let failure?): "not open in time; last failure: \(failure)"
        case .timeout(nil): "not open in time"
        case .rejected(let status, let message): "rejected by the server: HTTP \(status) \(message)"
        case .incompatible(let why): why
        case .stopped: "the client is not started or was disconnected"
        case .unreachable(let failure): failure.message
        }
    }
}

/// Sente's client state map (`:chsk/state`).
public struct ClientState: Sendable, Equatable {
    /// `:auto` before the first handshake under `auto`, then `:ws` or `:ajax`.
    public var type: String
    /// Connection believed open.
    public var isOpen = false
    /// A handshake has ever completed.
    public var everOpened = false
    /// True in the state right after the first handshake.
    public var firstOpen = false
    /// Uid from the last handshake.
    public var uid: EDNValue?
    /// The CSRF token the client was made with.
    public var csrfToken: String?
    /// Handshake data from the last handshake.
    public var handshakeData: EDNValue?
    /// `{:udt ms :ev …}` of the last WebSocket error.
    public var lastWSError: EDNValue?
    /// `{:udt :clean? :code :reason}` of the last WebSocket close.
    public var lastWSClose: EDNValue?
    /// `{:udt ms :reason r}` of the last close.
    public var lastClose: EDNValue?
    /// When the next reconnect attempt is due (ms since the epoch), while closed.
    public var nextReconnect: Int64?
    /// The wire generation in use, once known (beyond Sente's map; not printed in `value`).
    public var generation: WireGeneration?

    /// The state as Sente's map.
    public var value: EDNValue {
        var m = EDNMap()
        m[.kw("type")] = .kw(type)
        m[.kw("open?")] = .bool(isOpen)
        m[.kw("ever-opened?")] = .bool(everOpened)
        m[.kw("csrf-token")] = csrfToken.map(EDNValue.string) ?? .null
        if let uid { m[.kw("uid")] = uid }
        if let handshakeData { m[.kw("handshake-data")] = handshakeData }
        if firstOpen { m[.kw("first-open?")] = true }
        if let lastWSError { m[.kw("last-ws-error")] = lastWSError }
        if let lastWSClose { m[.kw("last-ws-close")] = lastWSClose }
        if let lastClose { m[.kw("last-close")] = lastClose }
        if let nextReconnect { m[.kw("udt-next-reconnect")] = .integer(nextReconnect) }
        return .map(m)
    }
}

/// One state change: Sente's `[:chsk/state [old new]]`.
public struct ClientStateChange: Sendable {
    /// The state before.
    public var old: ClientState
    /// The state after.
    public var new: ClientState

    /// True when `open?` changed.
    public var openChanged: Bool { old.isOpen != new.isOpen }

    /// The event as the client generation of `generation` delivers it: v1 (1.14)
    /// `[:chsk/state [old new]]`; v2 (newest) `[:chsk/state [old new open-changed?]]`, whose new
    /// state carries the transient keys `:open-changed?` and `:opened?`/`:closed?` (and
    /// `:first-open?`) when `open?` changed.
    public func event(generation: WireGeneration) -> Event {
        guard generation == .v2 else { return Event(Reserved.state, [old.value, new.value]) }
        var newValue = new.value
        if openChanged, case .map(var m) = newValue {
            m[.kw("open-changed?")] = true
            m[new.isOpen ? .kw("opened?") : .kw("closed?")] = true
            newValue = .map(m)
        } else if case .map(var m) = newValue {
            m[.kw("first-open?")] = nil
            newValue = .map(m)
        }
        return Event(Reserved.state, [old.value, newValue, .bool(openChanged)])
    }

    /// `[:chsk/state [old new]]` in v2 shape (see `event(generation:)`).
    public var event: Event { event(generation: new.generation ?? .v2) }

    /// The keys whose values differ.
    public var changedKeys: [Keyword] {
        guard case .map(let a) = old.value, case .map(let b) = new.value else { return [] }
        var keys: [Keyword] = []
        for k in a.keys + b.keys.filter({ !a.keys.contains($0) }) {
            if a[k] != b[k], case .keyword(let kw) = k { keys.append(kw) }
        }
        return keys
    }
}
