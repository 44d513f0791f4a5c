import ChannelSocket
import NIOCore
import Vapor

/// One Ajax long-poll on a Vapor request.
///
/// Vapor gives a handler no way to learn that its client hung up, and a poll answered into a
/// dead connection loses the push it carries. So a poll that is still held after
/// `interval` commits to its answer's status (`200`: every answer of a held poll is) and
/// streams its body: the head goes out at once, then an empty chunk (nothing on the wire)
/// every `interval`. A write on a connection the client closed fails; the poll is then
/// withdrawn (`ChannelSocketServer.cancelPoll`) and a push waits for the client's next poll.
/// Answers that come at once (handshake, waiting pushes, refusals) are plain responses with
/// their own status and a `Content-Length`.
///
/// The connection must be read while the poll is held, for its close to be seen: Vapor's
/// HTTP/1 pipelining handler stops reading while a response is pending, so
/// `Application.channelSocket` turns pipelining off.
///
/// All state is confined to the request's event loop.
final class VaporLongPoll: @unchecked Sendable {
    enum State {
        /// No answer yet, nothing written: the answer may still set the status.
        case waiting
        /// The streamed `200` was handed to Vapor; its writer has not come yet.
        case headPending(answer: HTTPReply?, ticks: Int)
        /// The head is out: probes until the answer.
        case streaming(any BodyStreamWriter)
        case done
    }

    let server: ChannelSocketServer
    let request: ConnectionRequest
    let id: UInt64
    let eventLoop: any EventLoop
    let interval: TimeAmount
    let response: EventLoopPromise<Response>
    private var state = State.waiting
    /// The engine's answer came (or the poll was withdrawn): later answers are ignored.
    private var answered = false
    private var timer: RepeatedTask?

    init(server: ChannelSocketServer, request: ConnectionRequest, eventLoop: any EventLoop, interval: TimeAmount) {
        self.server = server
        self.request = request
        self.id = server.nextPollID()
        self.eventLoop = eventLoop
        self.interval = interval
        self.response = eventLoop.makePromise(of: Response.self)
    }

    /// Starts the poll; the response comes when the answer does, or after `interval`.
    func start() -> EventLoopFuture<Response> {
        server.startPoll(request, id: id) { reply in
            self.eventLoop.execute { self.answer(reply) }
        }
        eventLoop.execute {
            guard case .waiting = self.state else { return }
            self.timer = self.eventLoop.scheduleRepeatedTask(initialDelay: self.interval, delay: self.interval) { _ in
                self.tick()
            }
        }
        return response.futureResult
    }

    /// The engine's answer (on the event loop).
    private func answer(_ reply: HTTPReply) {
        guard !answered else { return }
        answered = true
        switch state {
        case .waiting:
            finish()
            response.succeed(VaporChannelSocket.response(reply))
        case .headPending(_, let ticks):
            state = .headPending(answer: reply, ticks: ticks)
        case .streaming(let writer):
            write(reply, to: writer)
        case .done:
            break
        }
    }

    private func tick() {
        switch state {
        case .waiting:
            // Still held: commit to 200 and stream, so that a hang-up can be seen.
            state = .headPending(answer: nil, ticks: 0)
            var headers = HTTPHeaders()
            headers.add(name: .contentType, value: "text/plain; charset=utf-8")
            headers.add(name: .cacheControl, value: "no-store")
            let body = Response.Body(stream: { writer in
                self.eventLoop.execute { self.streamStarted(writer) }
            }, count: -1)
            response.succeed(Response(status: .ok, headers: headers, body: body))
        case .headPending(let reply, let ticks):
            // Vapor did not start the body: its connection is gone (the response was never
            // written). Withdraw the poll.
            if ticks >= 1 {
                if reply != nil {
                    server.log(.warning, "ajax poll \(request.clientID ?? "?"): connection gone before its answer was written; the answer is lost")
                }
                withdraw()
                finish()
            } else {
                state = .headPending(answer: reply, ticks: ticks + 1)
            }
        case .streaming(let writer):
            probe(writer)
        case .done:
            timer?.cancel()
        }
    }

    private func streamStarted(_ writer: any BodyStreamWriter) {
        guard case .headPending(let reply, _) = state else {
            writer.write(.end, promise: nil)
            return
        }
        state = .streaming(writer)
        if let reply {
            write(reply, to: writer)
        } else {
            probe(writer)
        }
    }

    /// An empty write: fails once the client has closed the connection.
    private func probe(_ writer: any BodyStreamWriter) {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenFailure { _ in
            guard case .streaming = self.state else { return }
            self.withdraw()
            self.finish()
            writer.write(.error(ChannelError.ioOnClosedChannel), promise: nil)
        }
        writer.write(.buffer(ByteBuffer()), promise: promise)
    }

    private func write(_ reply: HTTPReply, to writer: any BodyStreamWriter) {
        finish()
        let promise = eventLoop.makePromise(of: Void.self)
        let server = self.server, clientID = request.clientID ?? "?"
        promise.futureResult.whenFailure { error in
            server.log(.warning, "ajax poll \(clientID): the client left as its answer was written (\(error)); the answer is lost")
        }
        writer.write(.buffer(ByteBuffer(bytes: reply.body)), promise: promise)
        writer.write(.end, promise: nil)
    }

    /// The client hung up while its poll was held: a push now waits for its next poll.
    private func withdraw() {
        guard !answered else { return }
        answered = true
        server.log(.debug, "ajax poll \(request.clientID ?? "?"): client hung up; poll withdrawn")
        server.cancelPoll(request, id: id)
    }

    private func finish() {
        state = .done
        timer?.cancel()
        timer = nil
    }
}
