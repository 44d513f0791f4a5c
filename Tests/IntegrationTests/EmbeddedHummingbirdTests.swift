import ChannelSocket
import ChannelSocketClientNIO
import ChannelSocketHummingbird
import EDN
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import TestSupport
import Testing

/// The app's own request context: embedding does not need `BasicRequestContext` or a
/// WebSocket context.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
}

/// README "Embedding in a Hummingbird app": the lines between the `README:` marks are the
/// README's snippets, byte for byte (`readmeShowsTheseLines` checks it).
enum EmbeddingExample {
    static func makeServices(port: Int, logger: Logger,
                             onServerRunning: @escaping @Sendable (any Channel) async -> Void) throws -> (ChannelSocketServer, ServiceGroup) {
        // README: embed
        let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
        let router = Router(context: AppRequestContext.self)                 // the app's router and context
        router.get("/health") { _, _ in "ok" }                                  // a route of the app
        ChannelSocketRoutes.addHTTP(chsk, path: "/ws/chsk", router: router)     // Ajax: GET long-poll, POST
        let app = Application(router: router,
                              server: ChannelSocketHTTP1Channel.builder(server: chsk, path: "/ws/chsk"),  // + WebSocket
                              configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: onServerRunning)
        let services = ServiceGroup(configuration: .init(services: [app, ChannelSocketShutdownService(server: chsk)],
                                                         gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // README: end
        return (chsk, services)
    }

    static func handleEvents(_ chsk: ChannelSocketServer) async {
        // README: events
        for await message in chsk.events where message.event.id.namespace != "chsk" {
            if message.wantsReply { message.reply([.kw("echo"): message.data ?? .null, .kw("uid"): message.uid]) }
        }
        // README: end
    }
}

@Suite(.serialized) struct EmbeddedHummingbirdTests {
    /// Every `// README: NAME` … `// README: end` block of this file, without its indentation.
    static func snippets() throws -> [String: String] {
        MarkedBlocks.blocks(in: try String(contentsOfFile: #filePath, encoding: .utf8), prefix: "README:")
    }

    @Test func readmeShowsTheseLines() throws {
        let readme = try String(contentsOf: Checkout.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = try Self.snippets()
        #expect(blocks.keys.sorted() == ["embed", "events"])
        #expect(blocks["embed"]!.split(separator: "\n").count <= 10)
        for (name, code) in blocks {
            #expect(readme.contains("```swift\n" + code + "\n```"), "README lacks the \(name) snippet of \(#fileID) as a swift block")
        }
        #expect(readme.contains("## Embedding in a Hummingbird app"))
    }

    @Test func channelSocketInTheAppsOwnRouterAndServiceGroup() async throws {
        let portBox = Mutex<Int?>(nil)
        let (chsk, services) = try EmbeddingExample.makeServices(port: 0, logger: Logger(label: "embed-test")) { channel in
            portBox.withLock { $0 = channel.localAddress?.port }
        }
        let handler = Task { await EmbeddingExample.handleEvents(chsk) }
        let ended = Mutex(false)
        let running = Task {
            defer { ended.withLock { $0 = true } }
            try await services.run()
        }
        defer { handler.cancel(); running.cancel() }
        #expect(await eventually { portBox.withLock { $0 } != nil })
        let port = try #require(portBox.withLock { $0 })

        // The app's own route is answered by its router.
        let health = ChildProcess.run("/usr/bin/curl", ["-s", "-m", "5", "http://127.0.0.1:\(port)/health"], timeout: 10)
        #expect(health.status == 0 && health.stdout == "ok", "\(health)")
        // Nothing else of the app is the channel socket.
        let other = ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5",
                                                      "http://127.0.0.1:\(port)/chsk?client-id=x"], timeout: 10)
        #expect(other.stdout == "404", "\(other)")

        var clients: [(ChannelSocketClient, LockedBox<[String]>, Task<Void, Never>)] = []
        for type in [ClientType.ws, .ajax] {
            let client = ChannelSocketClient(url: "http://127.0.0.1:\(port)/ws/chsk",
                                             options: .init(type: type, params: ["uid": "u-\(type.rawValue)"],
                                                            backoff: Backoff(cap: .seconds(2), floor: .milliseconds(100))),
                                             transport: NIOClientTransport())
            let received = LockedBox<[String]>([])
            let events = client.events
            let reader = Task { for await e in events { received.value.append(e.description) } }
            await client.start()
            #expect(await eventually { await client.currentState.isOpen }, "\(type) client did not open")
            #expect(await client.currentState.type == type.rawValue)
            let reply = try await client.request(Event("app/hello", [.kw("n"): 1]), timeout: .seconds(5))
            #expect(reply == [.kw("echo"): [.kw("n"): 1], .kw("uid"): .string("u-\(type.rawValue)")])
            let delivered = try await chsk.send(Event("app/news", "pushed"), to: .string("u-\(type.rawValue)"), flush: true)
            #expect(delivered >= 1)
            #expect(await eventually { received.value.contains { $0.contains("[:app/news \"pushed\"]") } }, "\(type): \(received.value)")
            clients.append((client, received, reader))
        }

        // Graceful shutdown with both clients connected (an Ajax poll held, a WebSocket open)
        // ends within the shutdown service's bound (5 s) and a margin.
        let started = ContinuousClock.now
        await services.triggerGracefulShutdown()
        let finished = await eventually(8) { ended.withLock { $0 } }
        let elapsed = ContinuousClock.now - started
        print("embedded app: graceful shutdown with 2 clients connected took \(elapsed)")
        #expect(finished, "graceful shutdown did not finish within 8 s")
        #expect(elapsed < .seconds(6))
        if finished { try await running.value }
        for (client, _, reader) in clients {
            await client.disconnect()
            reader.cancel()
        }
        let after = ChildProcess.run("/usr/bin/curl", ["-s", "-m", "2", "http://127.0.0.1:\(port)/health"], timeout: 10)
        #expect(after.status != 0, "the app still answers after shutdown: \(after)")
    }
}
