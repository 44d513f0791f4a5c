import ChannelSocket
import ChannelSocketHummingbird
import EDN
import Foundation
import Hummingbird
import Synchronization
import TestSupport

/// The library's own server (`ChannelSocketServer` + the Hummingbird adapter) on a free
/// loopback port in this process, with an app that counts what it received: every event's
/// data per id, in arrival order, and the sender's client id. Requests get
/// `{:echo [id data] :uid … :client-id …}`. Stopped by `stop()`.
final class InProcessServer: Sendable {
    let server: ChannelSocketServer
    let port: Int
    private let serviceTask: Task<Void, any Error>
    private let consumer: Task<Void, Never>
    private let log = Received()

    final class Received: Sendable {
        let items = Mutex<[(id: String, data: EDNValue, clientID: String)]>([])
        let cookies = Mutex<Set<String>>([])
        let engine = Mutex<[EngineEvent]>([])
    }

    var url: String { "http://127.0.0.1:\(port)/chsk" }

    init(csrfToken: String? = nil, packer: any Packer = EDNPacker(), allowWebSocket: Bool = true,
         cluster: (any ChannelSocketBroker)? = nil) async throws {
        var options = ChannelSocketServerOptions(userID: { $0.params["uid"].map(EDNValue.string) },
                                                 csrf: csrfToken.map(CSRFCheck.token) ?? .disabled, packer: packer)
        options.allowWebSocket = allowWebSocket
        let server = try ChannelSocketServer(options: options, cluster: cluster)
        self.server = server
        let portBox = Mutex<Int?>(nil)
        let app = try ChannelSocketApplication(server: server, configuration: .init(host: "127.0.0.1", port: 0))
            .build(onServerRunning: { port in portBox.withLock { $0 = port } })
        serviceTask = Task { try await app.run() }
        let received = log
        consumer = Task {
            for await message in server.events {
                if let cookie = message.request.header("cookie") { received.cookies.withLock { _ = $0.insert(cookie) } }
                if let e = message.engineEvent { received.engine.withLock { $0.append(e) } }
                guard message.event.id.namespace != "chsk" else { continue }
                received.items.withLock { $0.append((message.id.text, message.data ?? .null, message.clientID)) }
                if message.wantsReply {
                    message.reply([.kw("echo"): [.keyword(message.id), message.data ?? .null], .kw("uid"): message.uid,
                                   .kw("client-id"): .string(message.clientID)])
                }
            }
        }
        let deadline = Date().addingTimeInterval(20)
        var bound: Int?
        while bound == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
            bound = portBox.withLock { $0 }
        }
        guard let bound else { throw ServerError.notListening }
        port = bound
    }

    enum ServerError: Error { case notListening }

    /// The data of every event with this id received so far, in arrival order.
    func data(of id: String) -> [EDNValue] {
        log.items.withLock { $0.filter { $0.id == id }.map(\.data) }
    }

    /// The engine's events so far (uidport, cluster uidport, bad events), in order.
    var engineEvents: [EngineEvent] { log.engine.withLock { $0 } }

    /// Every `Cookie` header that came with an event.
    var cookies: Set<String> { log.cookies.withLock { $0 } }

    /// The client ids that sent events with this id.
    func senders(of id: String) -> Set<String> {
        Set(log.items.withLock { $0.filter { $0.id == id }.map(\.clientID) })
    }

    /// Waits (at most `seconds`) until `count` events with `id` arrived, then a little longer
    /// to catch any extra; returns their data.
    func waitFor(_ count: Int, of id: String, seconds: Double = 10) async -> [EDNValue] {
        let deadline = Date().addingTimeInterval(seconds)
        while data(of: id).count < count && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        try? await Task.sleep(for: .milliseconds(100))
        return data(of: id)
    }

    func stop() async {
        serviceTask.cancel()
        _ = await serviceTask.result
        consumer.cancel()
    }
}
