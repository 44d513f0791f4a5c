import Synchronization

/// Why the server refused, dropped or closed something that was past one of its bounds.
/// Every such refusal is logged and counted here (`ChannelSocketServer.refusalCounts`), so a
/// test, a metrics exporter or an operator can see it: nothing past a bound is lost silently.
public enum RefusalReason: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A request head, or a request body, that did not arrive within its timeout (`408`).
    case httpTimeout = "http-timeout"
    /// A request head over the header size or count limits (`431`).
    case httpHeaderTooLarge = "http-header-too-large"
    /// A request NIO could not parse (`400`).
    case httpMalformed = "http-malformed"
    /// A WebSocket whose peer does not read: its outbound queue passed the limit (closed).
    case wsQueueFull = "ws-queue-full"
    /// A WebSocket whose peer read nothing for the write-stall timeout (closed, `1008`).
    case wsWriteStalled = "ws-write-stalled"
    /// A WebSocket frame that broke RFC 6455 (unmasked, bad close code, …; closed, `1002`).
    case wsProtocolError = "ws-protocol-error"
    /// A text message that is not valid UTF-8 (WebSocket `1007`; Ajax `400`).
    case invalidUTF8 = "invalid-utf8"
    /// A static file request for a dotfile, a path outside the folder or a control character.
    case staticPathRefused = "static-path-refused"
    /// The connection limit was reached: new connections waited in the backlog (counted once
    /// per logged interval, not per connection).
    case connectionLimit = "connection-limit"
    /// A callback reply packed larger than the frame cap: not sent over WebSocket (the client's
    /// callback times out), `500` over Ajax.
    case replyTooLarge = "reply-too-large"
    /// A push whose event alone packs larger than `maxOutboundMessageBytes`: refused to the
    /// caller of `send`/`broadcast` (`PushError.tooLarge`), nothing sent.
    case eventTooLarge = "event-too-large"
    /// A push batch over `maxOutboundMessageBytes`, sent as several frames (nothing lost).
    case batchSplit = "batch-split"
    /// An Ajax client whose waiting pushes passed `maxPendingBytesPerAjaxClient`: dropped, and
    /// the client forgotten (its next poll gets a new handshake).
    case ajaxPendingOverflow = "ajax-pending-overflow"
    /// A request without the right CSRF token (`403 Bad CSRF token`).
    case csrf = "csrf"
    /// A request from an origin that is not allowed (`403 Unauthorized origin`).
    case origin = "origin"
    /// A request the app's `authorize` (`401`, or `unauthorized`'s reply) or `authorization`
    /// hook (its reply) refused.
    case unauthorized = "unauthorized"
    /// A request the app's `reject` hook answered (Sente's `:reject-fn`).
    case rejected = "rejected"
    /// An inbound message over `maxMessageBytes` (WebSocket `1009`, Ajax `413`).
    case messageTooLarge = "message-too-large"
    /// A `:chsk/*` event an HTTP route or a client asked the server to push (`EchoApp`'s
    /// `/push`, `[:test/push …]`): Sente's own events are never pushed from outside.
    case reservedEvent = "reserved-event"
    /// A push the packer cannot pack (`PushError.unpackable`): refused to the caller.
    case unpackableEvent = "unpackable-event"
    /// A push, broadcast or close a cluster's broker could not take for the other nodes (its
    /// link down past its bound, or its queue full): refused to the caller
    /// (`PushError.clusterUnavailable`); this node's clients got it.
    case clusterUnavailable = "cluster-unavailable"
    /// Messages of the cluster this node never read: the broker's log was trimmed past the
    /// node's position while it was away or behind (Redis stream `MAXLEN`).
    case clusterGap = "cluster-gap"
    /// A message on the cluster's channel that is not a node's, or cannot be read: skipped.
    case clusterBadMessage = "cluster-bad-message"

    public var description: String { rawValue }
}

/// A counter per `RefusalReason` (refusals are rare: one lock is enough).
final class RefusalCounters: Sendable {
    private let counts = Mutex<[RefusalReason: Int]>([:])

    func add(_ reason: RefusalReason) {
        counts.withLock { $0[reason, default: 0] += 1 }
    }

    func value(_ reason: RefusalReason) -> Int {
        counts.withLock { $0[reason, default: 0] }
    }
}

extension ChannelSocketServer {
    /// Counts one refusal (`refusalCounts`, and the metrics); web adapters count the bounds
    /// they enforce through it.
    public func countRefusal(_ reason: RefusalReason) {
        refusals.add(reason)
        metrics.refused(reason)
    }

    /// How many times each bound was hit since the server started.
    public var refusalCounts: [RefusalReason: Int] {
        Dictionary(uniqueKeysWithValues: RefusalReason.allCases.map { ($0, refusals.value($0)) })
    }
}
