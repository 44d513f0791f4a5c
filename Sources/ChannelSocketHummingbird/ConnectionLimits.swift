import CoreMetrics
import ChannelSocket
public import ChannelSocketNIO
import HummingbirdCore
import NIOCore
import NIOHTTP1
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The adapter's bounds on every connection: how long each phase of an HTTP request may take,
/// how large a request head may be, how many bytes may wait to be written to one WebSocket and
/// for how long, and how long a graceful shutdown may take. Past a bound the connection is
/// answered (`400`, `408`, `431`) or closed (`1008`), with a log line and a count in the
/// engine's `ServerStats`; nothing waits forever.
///
/// The defaults follow nginx where it has an equivalent (`client_header_timeout`,
/// `client_body_timeout`, `keepalive_timeout`, `large_client_header_buffers`), shortened for a
/// server whose requests are small.
public struct HTTPLimits: Sendable, Equatable {
    /// From accept until the first request head is complete (a slowloris client trickling its
    /// headers, or a silent socket): `408` and close. Default 10 s.
    public var requestHeadTimeout: Duration
    /// From a request head until its body has ended: `408` and close. Default 30 s.
    public var requestBodyTimeout: Duration
    /// A keep-alive connection between requests (no request in progress, no poll held): closed.
    /// Default 60 s. A held long-poll is not idle.
    public var idleTimeout: Duration
    /// Largest single header line: `431` beyond. Default 16 KiB.
    public var maxHeaderFieldSize: Int
    /// Largest request head (all header lines): `431` beyond. Default 32 KiB.
    public var maxHeaderListSize: Int
    /// Most header lines in one request: `431` beyond. Default 100.
    public var maxHeaderFieldCount: Int
    /// Bytes that may wait to be written to one WebSocket (frames the peer has not read yet).
    /// A write past it closes the socket at once (the queue is dropped, the close logged and
    /// counted): a client that does not read cannot grow the server. Default 4 MiB (four
    /// default-sized messages). While more than NIO's write-buffer high-water mark (64 KiB)
    /// waits, nothing more is read from that client (TCP backpressure).
    public var maxQueuedBytesPerWebSocket: Int
    /// How long a WebSocket may stay unwritable (its peer reads nothing) before it is closed
    /// with `1008`. Default 10 s.
    public var writeStallTimeout: Duration
    /// After the server sends a close frame, how long it waits for the peer's close before it
    /// drops the connection. Default 3 s.
    public var closeTimeout: Duration
    /// How long a graceful shutdown may wait for connections to finish (answer held polls,
    /// close WebSockets with `1001`, finish requests in progress) before they are dropped.
    /// Default 5 s.
    public var shutdownTimeout: Duration
    /// Most connections open at once; past it new ones wait in the kernel's backlog. Default
    /// nil: the open-files limit less 64, so `accept` never fails for want of descriptors.
    public var maxConnections: Int?

    /// The defaults (see each property).
    public init(requestHeadTimeout: Duration = .seconds(10), requestBodyTimeout: Duration = .seconds(30),
                idleTimeout: Duration = .seconds(60), maxHeaderFieldSize: Int = 16 << 10,
                maxHeaderListSize: Int = 32 << 10, maxHeaderFieldCount: Int = 100,
                maxQueuedBytesPerWebSocket: Int = 4 << 20, writeStallTimeout: Duration = .seconds(10),
                closeTimeout: Duration = .seconds(3), shutdownTimeout: Duration = .seconds(5)) {
        self.requestHeadTimeout = requestHeadTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.idleTimeout = idleTimeout
        self.maxHeaderFieldSize = maxHeaderFieldSize
        self.maxHeaderListSize = maxHeaderListSize
        self.maxHeaderFieldCount = maxHeaderFieldCount
        self.maxQueuedBytesPerWebSocket = maxQueuedBytesPerWebSocket
        self.writeStallTimeout = writeStallTimeout
        self.closeTimeout = closeTimeout
        self.shutdownTimeout = shutdownTimeout
        self.maxConnections = nil
    }
}

extension HTTPLimits {
    /// The WebSocket bounds among these (`ChannelSocketNIO.addWebSocketHandlers`).
    public var webSocket: WebSocketLimits {
        WebSocketLimits(maxQueuedBytesPerWebSocket: maxQueuedBytesPerWebSocket, writeStallTimeout: writeStallTimeout,
                        closeTimeout: closeTimeout, shutdownTimeout: shutdownTimeout)
    }
}

/// The HTTP phase timer, malformed-request answer and shutdown hook of one connection, from
/// accept on (it sits right after NIO's request decoder, ahead of the upgrade handler, and is
/// removed when the connection becomes a WebSocket).
///
/// - Before the first request head is complete: `requestHeadTimeout`, then `408` and close.
/// - A request head read, its end not yet: `requestBodyTimeout` (absolute), then `408`.
/// - Requests read and not yet answered (a held poll, the app at work): no timer here.
/// - Nothing in progress on a keep-alive connection: `idleTimeout`, then close.
/// - A request NIO cannot parse: `400` (`431` for an oversized head) and close, instead of a
///   connection that hangs with nobody to answer it.
/// - Graceful shutdown (`ChannelShouldQuiesceEvent`): an idle connection closes at once, a
///   busy one after its answer; whatever is still open after `shutdownTimeout` is closed.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: HTTPLimits
    private let server: ChannelSocketServer
    /// A request head read and its end not yet.
    private var requestOpen = false
    /// Requests read to their end and not yet answered to theirs.
    private var owed = 0
    /// A response head written and its end not yet.
    private var responding = false
    /// A response ended while its request was still arriving (answered early, e.g. `413`).
    private var answeredEarly = false
    /// Whether any request has been answered (the first request has its own timeout).
    private var servedAny = false
    private var quiescing = false
    private var timer: Scheduled<Void>?
    private var timerPhase = ""
    private var done = false

    init(limits: HTTPLimits, server: ChannelSocketServer) {
        self.limits = limits
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armIdle(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        done = true
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }   // answered and closing: what still comes is dropped
        switch unwrapInboundIn(data) {
        case .head:
            requestOpen = true
            answeredEarly = false
            arm(limits.requestBodyTimeout, phase: "request body", context: context)
        case .body:
            break
        case .end:
            requestOpen = false
            if answeredEarly {
                answeredEarly = false
                armIdle(context: context)
            } else {
                owed += 1
                cancelTimer()
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            // Informational (1xx) heads are followed by the real one.
            if head.status.code >= 200 { responding = true }
        case .body:
            break
        case .end:
            responding = false
            servedAny = true
            if requestOpen {
                answeredEarly = true
            } else {
                owed = max(0, owed - 1)
            }
            context.write(data, promise: promise)
            if quiescing && owed == 0 && !requestOpen {
                context.flush()
                context.close(promise: nil)
            } else {
                armIdle(context: context)
            }
            return
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if done, error is HTTPParserError { return }   // the rest of what we already refused
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let status: HTTPResponseStatus = parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        server.log(.info, "http \(context.channel.remoteAddress?.description ?? "?"): malformed request (\(parseError)); answered \(status.code) and closed")
        server.countRefusal(status.code == 431 ? .httpHeaderTooLarge : .httpMalformed)
        answerAndClose(status, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if done, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)   // the peer read our answer and hung up
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // Whatever is still open when the shutdown's time is up is dropped.
            let channel = context.channel
            channel.eventLoop.scheduleTask(in: TimeAmount(limits.shutdownTimeout)) { channel.close(promise: nil) }
            if owed == 0 && !requestOpen && !responding {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: timers

    private func armIdle(context: ChannelHandlerContext) {
        guard !requestOpen, owed == 0 else { return }
        if servedAny {
            arm(limits.idleTimeout, phase: "idle", context: context)
        } else {
            arm(limits.requestHeadTimeout, phase: "request head", context: context)
        }
    }

    private func arm(_ delay: Duration, phase: String, context: ChannelHandlerContext) {
        cancelTimer()
        guard !done else { return }
        timerPhase = phase
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.timedOut(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func timedOut(context: ChannelHandlerContext) {
        guard !done else { return }
        let peer = context.channel.remoteAddress?.description ?? "?"
        if timerPhase == "idle" {
            server.log(.debug, "http \(peer): idle for \(limits.idleTimeout); closed")
            done = true
            context.close(promise: nil)
            return
        }
        server.log(.info, "http \(peer): \(timerPhase) not complete within \(limits.requestHeadTimeout == limits.requestBodyTimeout || timerPhase == "request head" ? limits.requestHeadTimeout : limits.requestBodyTimeout); answered 408 and closed")
        server.countRefusal(.httpTimeout)
        answerAndClose(.requestTimeout, context: context)
    }

    /// A short plain answer with `Connection: close`, then the close (unless a response is
    /// already under way: then only the close). The close is a lingering one, as nginx does:
    /// our side of the connection ends (FIN) once the answer is written, and what the peer
    /// still sends is read and dropped until it hangs up or `closeTimeout` passes. Closing at
    /// once with unread input would reset the connection, and the peer could lose the answer.
    private func answerAndClose(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        done = true
        cancelTimer()
        guard !responding, owed == 0 else {
            context.close(promise: nil)
            return
        }
        let body = "\(status.code) \(status.reasonPhrase)\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { result in
            if case .success = result {
                channel.close(mode: .output, promise: nil)
            } else {
                channel.close(promise: nil)
            }
        }
        // A peer that does not read the answer, or never hangs up, does not keep the connection.
        channel.eventLoop.scheduleTask(in: TimeAmount(limits.closeTimeout)) { channel.close(promise: nil) }
    }
}

/// At most `limit` connections at once: past it the server stops accepting (the kernel holds
/// new connections in its backlog) instead of spinning on `accept` failing with EMFILE, and
/// goes on serving the connections it has. A line is logged at most once per 10 s while the
/// cap holds connections back.
struct ConnectionCap: AvailableConnectionsDelegate {
    let limit: Int
    let server: ChannelSocketServer
    let throttle = LogThrottle()
    var open = 0

    init(limit: Int, server: ChannelSocketServer) {
        self.limit = limit
        self.server = server
    }

    /// The default cap: the process's open-files limit less a reserve for everything else.
    static func defaultLimit() -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur < 1 << 30 else { return 1 << 20 }
        return max(16, Int(rl.rlim_cur) - 64)
    }

    mutating func connectionOpened() { open += 1 }
    mutating func connectionClosed() { open -= 1 }

    func isAcceptingNewConnections() -> Bool {
        guard open >= limit else { return true }
        if throttle.due(every: .seconds(10)) {
            server.log(.warning, "\(open) connections open, the limit (\(limit)); new connections wait until some close")
            server.countRefusal(.connectionLimit)
        }
        return false
    }
}

/// True at most once per interval (for log lines about a condition that lasts).
final class LogThrottle: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func due(every interval: Duration) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            guard last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
    }
}
