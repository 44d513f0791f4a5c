// The near-limit floor for WebSocket request/reply on this machine: a bare SwiftNIO
// WebSocket server that speaks just enough Sente for `chsk bench echo` (a v2 handshake on
// connect; every `[event "cb"]` answered `[true "cb"]`) and does no other protocol work: no
// EDN parsing, no tasks, no batching. chsk's server is measured against it.
//
// The floor of a push fan-out too, for `chsk bench fanout` and `chsk bench ajax`:
// `GET /broadcast?ev=<edn>` waits Sente's 30 ms WebSocket batching window, then writes one v2
// batch frame `[[ev] nil]`, framed once and shared, to every WebSocket, with one task per event
// loop for all its sockets; after Sente's 100 ms Ajax window it answers every held v2 long-poll
// with the same batch. No uids, no registry, no per-socket copy: what is left is NIO's and the
// kernel's cost per socket.
//
//   nio-ws-echo [--port 0]      prints the bound port on the first stdout line
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
#if canImport(Glibc)
import Glibc
#endif

/// Every upgraded WebSocket, for the broadcast.
let sockets = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

final class SenteFloorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        sockets.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { _ in _ = sockets.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
        send(#"[[:chsk/handshake ["bench" nil nil]] nil]"#, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            var data = frame.unmaskedData
            let text = data.readString(length: data.readableBytes) ?? ""
            // The callback id is the last "…" before the closing bracket: [[…] "cb"].
            guard text.hasSuffix("\"]"), let open = text.dropLast(2).lastIndex(of: "\"") else { return }
            let cb = text[open...].dropLast(1)
            send("[true \(cb)]", context: context)
        case .connectionClose:
            context.close(promise: nil)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        default:
            break
        }
    }

    func send(_ text: String, context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(string: text)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
    }
}

/// Held Ajax long-polls, for the broadcast.
let polls = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

/// Plain HTTP on connections that did not upgrade: `GET /broadcast?ev=<edn>`; Sente v2 Ajax
/// polls on `/chsk` (a handshake poll answered at once, any other poll held until a broadcast
/// or 20 s, then `[:chsk/timeout nil]`); anything else 404.
final class BroadcastHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var uri: String?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): uri = head.uri
        case .body: break
        case .end:
            let target = uri ?? ""
            if target.hasPrefix("/broadcast?ev="), let ev = String(target.dropFirst("/broadcast?ev=".count)).removingPercentEncoding {
                broadcast("[[\(ev)] nil]")
                respond(context.channel, .ok, "ok")
            } else if target.hasPrefix("/chsk?"), target.contains("handshake") {
                respond(context.channel, .ok, #"[[:chsk/handshake ["bench" nil nil]] nil]"#)
            } else if target.hasPrefix("/chsk?") {
                let channel = context.channel
                polls.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
                channel.eventLoop.scheduleTask(in: .seconds(20)) {
                    if polls.withLockedValue({ $0.removeValue(forKey: ObjectIdentifier(channel)) }) != nil {
                        respond(channel, .ok, "[:chsk/timeout nil]")
                    }
                }
            } else {
                respond(context.channel, .notFound, "not found")
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        _ = polls.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
        context.fireChannelInactive()
    }
}

func respond(_ channel: any Channel, _ status: HTTPResponseStatus, _ text: String) {
    let body = channel.allocator.buffer(string: text)
    var headers = HTTPHeaders()
    headers.add(name: "Content-Length", value: String(body.readableBytes))
    headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
    channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
    channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
    channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
}

/// Sente's windows: after 30 ms one frame, shared, written to every socket by its own loop;
/// after 100 ms every held poll answered, also by its own loop.
func broadcast(_ text: String) {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
    loop.scheduleTask(in: .milliseconds(30)) {
        forEachByLoop(sockets.withLockedValue { Array($0.values) }) { $0.writeAndFlush(frame, promise: nil) }
    }
    loop.scheduleTask(in: .milliseconds(100)) {
        let held = polls.withLockedValue { p in defer { p = [:] }; return Array(p.values) }
        forEachByLoop(held) { respond($0, .ok, text) }
    }
}

/// `body` for each channel, on its event loop, one task per loop.
func forEachByLoop(_ channels: [any Channel], _ body: @escaping @Sendable (any Channel) -> Void) {
    var byLoop: [ObjectIdentifier: (any EventLoop, [any Channel])] = [:]
    for channel in channels { byLoop[ObjectIdentifier(channel.eventLoop), default: (channel.eventLoop, [])].1.append(channel) }
    for (loop, group) in byLoop.values {
        loop.execute { for channel in group { body(channel) } }
    }
}

var port = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    if a == "--port", let p = args.popFirst().flatMap(Int.init) { port = p }
}

let group = MultiThreadedEventLoopGroup.singleton
let upgrader = NIOWebSocketServerUpgrader(
    maxFrameSize: 1 << 20,
    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
    upgradePipelineHandler: { channel, _ in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(SenteFloorHandler())
        }
    })
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 4096)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
            context.pipeline.removeHandler(name: "broadcast", promise: nil)
        })).flatMapThrowing {
            try channel.pipeline.syncOperations.addHandler(BroadcastHandler(), name: "broadcast")
        }
    }
let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
// The port, unbuffered: whoever started us reads it from a pipe.
let portLine = Array("\(channel.localAddress?.port ?? 0)\n".utf8)
_ = portLine.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
try await channel.closeFuture.get()
