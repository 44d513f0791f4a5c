import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import Synchronization
import TestSupport
import Testing

/// A hand-written Sente-like server whose HTTP stack cannot go on after a refused WebSocket
/// upgrade, as Vapor 4's cannot (its decoder stops parsing a connection once it has read an
/// upgrade request): the upgrade is answered `400` with `Connection: keep-alive`, and any
/// later request on that connection is never answered. Other connections answer the Ajax
/// handshake; other polls are held until the client leaves.
final class StuckAfterUpgradeServer: Sendable {
    let listener: LoopbackListener
    /// Requests sent on a connection after its refused upgrade (never answered).
    let stuckRequests = Mutex(0)
    /// Handshake polls answered.
    let handshakes = Mutex(0)
    private let connections = Mutex<[Int32]>([])

    var url: String { "http://127.0.0.1:\(listener.port)/chsk" }

    init() throws {
        listener = try LoopbackListener()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let c = accept(listener.fd, nil, nil)
            if c < 0 { return }
            connections.withLock { $0.append(c) }
            Thread.detachNewThread { [self] in serve(c) }
        }
    }

    private func serve(_ c: Int32) {
        var refusedUpgrade = false
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(c, &chunk, chunk.count)
            if n <= 0 { break }
            buffer += chunk[0..<n]
            while let end = Self.headEnd(buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
                buffer.removeFirst(end + 4)
                if refusedUpgrade {
                    stuckRequests.withLock { $0 += 1 }
                } else if head.contains("upgrade: websocket") {
                    refusedUpgrade = true
                    Self.respond(c, status: "400 Bad Request", body: "WebSocket disabled on this server (Ajax only)")
                } else if head.contains("handshake%3f=") || head.contains("handshake?=") {
                    handshakes.withLock { $0 += 1 }
                    Self.respond(c, status: "200 OK", body: #"[[:chsk/handshake ["a" nil nil]] nil]"#)
                }
            }
        }
        _ = close(c)
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    static func respond(_ c: Int32, status: String, body: String) {
        let text = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: keep-alive\r\n\r\n\(body)"
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
    }

    func stop() {
        listener.close()
        for c in connections.withLock({ $0 }) { _ = shutdown(c, Int32(SHUT_RDWR)) }
    }
}

@Suite struct ClientUpgradeRefusalTests {
    /// An `auto` client whose upgrade is refused reads why (the status and body, by repeating the
    /// upgrade over HTTP), then comes up over Ajax at once: the request that read the refusal
    /// asked for its connection to be closed, so no poll is sent on a connection the server may
    /// no longer read.
    @Test func autoClientFallsBackEvenWhenTheRefusingConnectionIsDead() async throws {
        let server = try StuckAfterUpgradeServer()
        defer { server.stop() }
        let client = ChannelSocketClient(url: server.url,
                                         options: .init(type: .auto, clientID: "stuck-1", ajaxTimeout: .seconds(30)),
                                         transport: NIOClientTransport())
        await client.start()
        let opened = await eventually(10) { await client.currentState.isOpen }
        let state = await client.currentState
        #expect(opened, "\(state)")
        #expect(state.type == "ajax")
        #expect(state.lastWSError?[.kw("ev")] == .string("HTTP 400: WebSocket disabled on this server (Ajax only)"))
        #expect(server.handshakes.withLock { $0 } == 1)
        #expect(server.stuckRequests.withLock { $0 } == 0)
        await client.disconnect()
    }
}
