import ChannelSocket
import NIOCore
import NIOHTTP1

/// Ajax long-polls (`GET` on the channel socket path, no upgrade) served on the connection's
/// event loop, ahead of Hummingbird: the connection stays open for the client's next poll
/// (keep-alive), and a client that hangs up while its poll is held is seen at once (input
/// closed or channel inactive), so the poll is withdrawn and a push waits for the next one
/// instead of going to a dead socket. Hummingbird's own long-poll route has to close every
/// connection after its answer to notice hang-ups, so every poll cost a new TCP connection
/// and a connection task.
///
/// Every other request goes on to Hummingbird unchanged. Requests are answered in order: while
/// one is in progress (ours or Hummingbird's), the parts of a pipelined next one wait here, and
/// nothing more is read from the connection until they have moved on (a client pipelining
/// requests behind a held poll backs up in TCP, not in our memory).
final class AjaxPollHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// A request Hummingbird answers: done when both its request and response have ended.
        case forwarding(requestEnded: Bool, responseEnded: Bool)
        /// A long-poll of ours.
        case polling(requestEnded: Bool, answered: Bool, keepAlive: Bool)
    }

    let server: ChannelSocketServer
    let path: String
    private var state = State.idle
    private var waiting = CircularBuffer<HTTPServerRequestPart>()
    /// The poll in progress: its request and id.
    private var pollRequest: ConnectionRequest?
    private var pollID: UInt64 = 0
    private var inactive = false
    /// Graceful shutdown asked this connection to wind down during a poll: answer, then close.
    private var quiescing = false
    /// A read asked for while parts were waiting: done once they have moved on.
    private var readHeld = false

    init(server: ChannelSocketServer, path: String) {
        self.server = server
        self.path = path
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waiting.append(unwrapInboundIn(data))
        drain(context: context)
    }

    /// Whether a part may be handled now: between requests, or while the request it belongs
    /// to is still arriving. Otherwise it waits for the answer in progress.
    private var mayProcess: Bool {
        switch state {
        case .idle: true
        case .forwarding(let ended, _), .polling(let ended, _, _): !ended
        }
    }

    /// Handles the parts that may be handled now, in order; true if any went on to Hummingbird.
    @discardableResult
    private func drain(context: ChannelHandlerContext) -> Bool {
        var forwarded = false
        while mayProcess, let next = waiting.popFirst() {
            forwarded = process(next, context: context) || forwarded
        }
        if waiting.isEmpty && readHeld {
            readHeld = false
            context.read()
        }
        return forwarded
    }

    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// Handles one part; true if it went on to Hummingbird.
    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) -> Bool {
        switch state {
        case .idle:
            guard case .head(let head) = part, head.method == .GET, Self.path(of: head.uri) == path else {
                if case .head = part { state = .forwarding(requestEnded: false, responseEnded: false) }
                context.fireChannelRead(wrapInboundOut(part))
                return true
            }
            state = .polling(requestEnded: false, answered: false, keepAlive: head.isKeepAlive)
            startPoll(head, context: context)
            return false
        case .forwarding(_, let responseEnded):
            context.fireChannelRead(wrapInboundOut(part))
            if case .end = part { state = .forwarding(requestEnded: true, responseEnded: responseEnded) }
            becomeIdleIfDone()
            return true
        case .polling(_, let answered, let keepAlive):
            // A GET's body (there should be none) is read and dropped.
            if case .end = part { state = .polling(requestEnded: true, answered: answered, keepAlive: keepAlive) }
            becomeIdleIfDone()
            return false
        }
    }

    private func startPoll(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var request = ChannelSocketHTTP1Channel.connectionRequest(head)
        request.isWebSocket = false
        request.remoteAddress = context.channel.remoteAddress?.description
        if let rejection = server.check(request) {
            answer(rejection, context: context)
            return
        }
        if head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
            answer(HTTPReply(status: 400, text: "WebSocket upgrade failed"), context: context)
            return
        }
        pollRequest = request
        let server = self.server
        let id = server.nextPollID()
        pollID = id
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // The engine calls back with the answer; no task waits for it.
        server.startPoll(request, id: id) { reply in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard handler.pollID == id else { return }
                handler.answer(reply, context: context)
            }
        }
    }

    /// The client hung up while its poll is held: withdraw it, so a push waits for the next poll.
    private func withdrawPoll() {
        guard case .polling(_, false, _) = state, let request = pollRequest else { return }
        server.cancelPoll(request, id: pollID)
    }

    private func answer(_ reply: HTTPReply, context: ChannelHandlerContext) {
        guard case .polling(let requestEnded, false, let keepAlive) = state else { return }
        state = .polling(requestEnded: requestEnded, answered: true, keepAlive: keepAlive)
        guard !inactive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType ?? "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(reply.body.count))
        let close = !keepAlive || quiescing
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        if !close {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
        nextRequest(context: context)
    }

    /// Back to idle once the request in progress is over on both sides.
    private func becomeIdleIfDone() {
        switch state {
        case .forwarding(true, true), .polling(true, true, _): state = .idle
        default: break
        }
    }

    /// After an answer: on to the requests that waited for it (outside a read cycle, so the
    /// parts handed on are followed by a read-complete).
    private func nextRequest(context: ChannelHandlerContext) {
        becomeIdleIfDone()
        if drain(context: context) { context.fireChannelReadComplete() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), case .forwarding(let requestEnded, _) = state {
            state = .forwarding(requestEnded: requestEnded, responseEnded: true)
            context.write(data, promise: promise)
            // Let the write go out before the next request's parts move on.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.nextRequest(context: context)
            }
            return
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server allows half-closure: a client that hangs up shows as input closed.
        if let event = event as? ChannelEvent, event == .inputClosed, case .polling = state {
            withdrawPoll()
            context.close(promise: nil)
            return
        }
        // Graceful shutdown: Hummingbird closes connections it thinks idle, and a held poll
        // looks idle to it. Answer the poll now (:chsk/timeout, so the client polls again
        // elsewhere or later), then close. The release reaches the engine after the poll's
        // start (one ordered queue), so the answer always comes.
        if event is ChannelShouldQuiesceEvent, case .polling(_, false, _) = state {
            quiescing = true
            if let request = pollRequest { server.releasePoll(request) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !inactive { withdrawPoll() }
        inactive = true
        context.fireChannelInactive()
    }

    static func path(of uri: String) -> String {
        guard let mark = uri.firstIndex(of: "?") else { return uri }
        return String(uri[..<mark])
    }
}
