// The near-limit floor for WebSocket request/reply on this machine: a bare SwiftNIO
// WebSocket server that speaks just enough Sente for `chsk bench echo` (a v2 handshake on
// connect; every `[event "cb"]` answered `[true "cb"]`) and does no other protocol work: no
// EDN parsing, no tasks, no batching. chsk's server is measured against it.
//
//   nio-ws-echo [--port 0]      prints the bound port on the first stdout line
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
#if canImport(Glibc)
import Glibc
#endif

final class SenteFloorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func handlerAdded(context: ChannelHandlerContext) {
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
        channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
    }
let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
// The port, unbuffered: whoever started us reads it from a pipe.
let portLine = Array("\(channel.localAddress?.port ?? 0)\n".utf8)
_ = portLine.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
try await channel.closeFuture.get()
