// A bare Hummingbird 2 WebSocket server speaking the same minimal Sente as nio-ws-echo (v2
// handshake on connect, every `[event "cb"]` answered `[true "cb"]`), with no chsk engine:
// it separates what Hummingbird/WSCore cost per connection and per message from what chsk's
// own engine costs.
//
//   hb-ws-echo [--port 0]      prints the bound port on the first stdout line
import Hummingbird
import HummingbirdWebSocket
#if canImport(Glibc)
import Glibc
#endif

var port = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    if a == "--port", let p = args.popFirst().flatMap(Int.init) { port = p }
}

let router = Router(context: BasicWebSocketRequestContext.self)
let wsRouter = Router(context: BasicWebSocketRequestContext.self)
wsRouter.ws("chsk") { inbound, outbound, _ in
    try await outbound.write(.text(#"[[:chsk/handshake ["bench" nil nil]] nil]"#))
    for try await message in inbound.messages(maxSize: 1 << 20) {
        guard case .text(let text) = message, text.hasSuffix("\"]"),
              let open = text.dropLast(2).lastIndex(of: "\"") else { continue }
        try await outbound.write(.text("[true \(text[open...].dropLast(1))]"))
    }
}
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(webSocketRouter: wsRouter),
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        let line = Array("\(channel.localAddress?.port ?? 0)\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
)
try await app.runService()
