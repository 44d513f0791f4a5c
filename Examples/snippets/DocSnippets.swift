import ChannelSocket
import ChannelSocketClientNIO
import ChannelSocketHummingbird
import ChannelSocketRedis
import ChannelSocketTesting
import EDN
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import Transit
import UnixSignals

// The Swift blocks of the DocC articles (`Sources/*/*.docc/*.md`), as compiled code: each
// block is here between `// DOCS: Article#N` and `// DOCS: end` (N counts the article's Swift
// blocks from 0), byte for byte; a block's `import` lines are this file's. `swift test`
// compiles them, `DocSnippetTests` checks that the articles show exactly these lines, and the
// ones that need no network beyond loopback run. What a block uses and does not declare
// (`client`, `logger`, `rooms`, …) comes from the function around it.

// MARK: ClientInAnApp

enum ClientInAnAppSnippets {
    /// Compiled, never run: it names a server on the internet.
    static func open() async -> ChannelSocketClient {
        // DOCS: ClientInAnApp#0
        let client = ChannelSocketClient(url: "https://example.com/chsk",
                                         options: .init(params: ["uid": "alice"]),
                                         transport: NIOClientTransport())
        await client.start()
        // DOCS: end
        return client
    }
}

/// An app's view model: what the article's state and event loops update.
@MainActor final class ConnectionModel {
    var status = "offline"
    var received: [Event] = []

    func handle(_ event: Event) { received.append(event) }

    func watch(_ client: ChannelSocketClient) {
        // DOCS: ClientInAnApp#1
        Task { for await change in client.stateChanges { status = change.new.isOpen ? "online" : "offline" } }
        Task { for await event in client.events { handle(event) } }
        // DOCS: end
    }
}

// MARK: ClusterOverRedis

enum ClusterSnippets {
    /// Compiled; `ClusterRedisTests` runs the same calls against a Redis of its own.
    static func node(options: ChannelSocketServerOptions, logger: Logger) async throws -> ChannelSocketServer {
        // DOCS: ClusterOverRedis#0
        let broker = try await RedisBroker(url: "redis://127.0.0.1:6379", nodeID: "node-1")
        let chsk = try ChannelSocketServer(options: options, logger: logger, cluster: broker)
        // DOCS: end
        return chsk
    }
}

// MARK: EmbeddingInHummingbird

enum HummingbirdSnippets {
    /// Compiled, not run (port 8080 and `runService` until a signal); `EmbeddedHummingbirdTests`
    /// runs the same calls on a free port.
    static func webSocketRouter() async throws {
        // DOCS: EmbeddingInHummingbird#0
        let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
        let router = Router(context: BasicWebSocketRequestContext.self)
        let wsRouter = Router(context: BasicWebSocketRequestContext.self)
        ChannelSocketRoutes.add(chsk, path: "/chsk", router: router, webSocketRouter: wsRouter)
        let app = Application(router: router,
                              server: .http1WebSocketUpgrade(webSocketRouter: wsRouter,
                                                             configuration: ChannelSocketRoutes.serverConfiguration(for: chsk)))
        try await app.runService()
        // DOCS: end
    }

    static func nioUpgrade(chsk: ChannelSocketServer) async throws {
        // DOCS: EmbeddingInHummingbird#1
        let router = Router()                     // your app's router, any RequestContext
        ChannelSocketRoutes.addHTTP(chsk, path: "/chsk", router: router)
        let app = Application(router: router,
                              server: ChannelSocketHTTP1Channel.builder(server: chsk, path: "/chsk"))
        try await app.runService()
        // DOCS: end
    }

    static func serviceGroup(chsk: ChannelSocketServer, app: some Service, logger: Logger) async throws {
        // DOCS: EmbeddingInHummingbird#2
        let services = ServiceGroup(configuration: .init(services: [app, ChannelSocketShutdownService(server: chsk)],
                                                         gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
        // DOCS: end
    }

    static func readyMade(chsk: ChannelSocketServer) async throws {
        // DOCS: EmbeddingInHummingbird#3
        let app = try ChannelSocketApplication(server: chsk, configuration: .init(port: 8090, staticDirectory: "Public"))
            .build(extraRoutes: { router in router.get("/health") { _, _ in "ok" } })
        try await app.runService()
        // DOCS: end
    }
}

// MARK: GettingStarted

enum GettingStartedSnippets {
    /// Compiled, not run (port 8090, runs until a signal).
    static func server() async throws {
        // DOCS: GettingStarted#0
        let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
        let app = try ChannelSocketApplication(server: chsk, configuration: .init(port: 8090)).build()
        let router = EventRouter()
            .on("my-app/req") { msg in msg.reply([.kw("ok"): true]) }
            .start(on: chsk)
        try await chsk.send(Event("my-app/alert", "hi"), to: "alice")      // every client of alice, in order
        try await app.runService()
        // DOCS: end
        router.stop()
    }

    /// Compiled, not run (a server on port 8090).
    static func client() async throws {
        // DOCS: GettingStarted#1
        let client = ChannelSocketClient(url: "http://127.0.0.1:8090/chsk", options: .init(params: ["uid": "alice"]),
                                         transport: NIOClientTransport())
        let events = client.events                                          // handshake, pushes
        Task { for await event in events { print(event) } }
        await client.start()
        try await client.waitUntilOpen(timeout: .seconds(10))               // or: send/request wait for it
        let reply = try await client.request(Event("my-app/req", [.kw("q"): 1]), timeout: .seconds(8))
        try await client.send(Event("my-app/hello", "hi"))                  // returns once written
        await client.disconnect()                                           // after the close handshake
        // DOCS: end
        _ = reply
    }
}

// MARK: TypedEvents

// DOCS: TypedEvents#0
struct SendMessage: Codable, Sendable { var room: String; var text: String }
struct HistoryQuery: Codable, Sendable { var room: String; var limit: Int }
struct ChatMessage: Codable, Sendable { var author: String; var text: String; var sentAt: Instant }
// DOCS: end

/// The chat's rooms: what the article's handlers call.
actor Rooms {
    private var messages: [String: [ChatMessage]] = [:]

    func post(_ message: SendMessage, by uid: EDNValue) {
        let sent = ChatMessage(author: uid.stringValue ?? "?", text: message.text, sentAt: Instant(millisecondsSinceEpoch: 1_700_000_000_000))
        messages[message.room, default: []].append(sent)
    }

    func last(_ count: Int, in room: String) -> [ChatMessage] { Array((messages[room] ?? []).suffix(count)) }
}

enum TypedEventsSnippets {
    static func serve(_ chsk: ChannelSocketServer, rooms: Rooms) -> StopHandle {
        // DOCS: TypedEvents#1
        let router = EventRouter()
            .on("chat/send", as: SendMessage.self) { msg, send in await rooms.post(send, by: msg.uid) }
            .onRequest("chat/history", as: HistoryQuery.self) { msg, q in await rooms.last(q.limit, in: q.room) } // -> [ChatMessage]
            .otherwise { msg in if msg.wantsReply { msg.reply(.kw("my-app/unknown-event")) } }
            .start(on: chsk)
        // DOCS: end
        return router
    }

    /// Runs until the task it runs in is cancelled (the `for await`).
    static func talk(_ client: ChannelSocketClient, show: @escaping @Sendable (ChatMessage) -> Void) async throws -> [ChatMessage] {
        // DOCS: TypedEvents#2
        let history = try await client.request("chat/history", HistoryQuery(room: "lobby", limit: 20), as: [ChatMessage].self)
        try await client.send("chat/send", SendMessage(room: "lobby", text: "hi"))
        for await message in client.events("chat/message", as: ChatMessage.self) { show(message) }
        // DOCS: end
        return history
    }
}

// MARK: EDN, Transit

enum CodecSnippets {
    static func edn() throws -> (EDNValue, EDNValue, String) {
        // DOCS: EDN#0
        let v = try EDNReader.read(#"{:user/id 42, :tags #{"a" "b"}, :at #inst "2024-01-01T00:00:00Z"}"#)
        print(v)                               // {:user/id 42, :tags #{"a" "b"}, :at #inst "2024-01-01T00:00:00.000-00:00"}
        let ev: EDNValue = [.kw("my-app/chat"), [.kw("text"): "hi", .kw("n"): 1]]   // string literals stay strings

        struct Chat: Codable { var room: String; var text: String }
        let payload = try EDNEncoder().encode(Chat(room: "lobby", text: "hi"))   // {:room "lobby", :text "hi"}
        let chat = try EDNDecoder().decode(Chat.self, from: payload)
        // DOCS: end
        return (v, ev, chat.room + " " + chat.text)
    }

    static func transit() throws -> ([UInt8], String) {
        // DOCS: Transit#0
        struct Chat: Codable { var room: String; var text: String }
        let bytes = try TransitEncoder(format: .json).encode(Chat(room: "lobby", text: "hi"))
        let chat = try TransitDecoder(format: .json).decode(Chat.self, from: bytes)
        // DOCS: end
        return (bytes, chat.room + " " + chat.text)
    }
}

@Suite struct DocSnippetTests {
    /// Every Swift block of every DocC article is one of this file's `DOCS:` blocks, byte for
    /// byte (its `import` lines among this file's imports), and every `DOCS:` block is shown.
    @Test func theArticlesShowThisCode() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let sourceLines = Set(source.split(separator: "\n").map(String.init))
        let compiled = MarkedBlocks.blocks(in: source, prefix: "DOCS:")
        let sources = Checkout.packageRoot.appendingPathComponent("Sources")
        var shown: Set<String> = []
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted() {
            let catalog = sources.appendingPathComponent(module).appendingPathComponent("\(module).docc")
            guard let articles = try? FileManager.default.contentsOfDirectory(atPath: catalog.path) else { continue }
            for article in articles.sorted() where article.hasSuffix(".md") {
                let text = try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)
                for (i, block) in MarkedBlocks.swiftBlocks(inMarkdown: text).enumerated() {
                    let name = "\(article.dropLast(3))#\(i)"
                    var lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    while let first = lines.first, first.hasPrefix("import ") {
                        #expect(sourceLines.contains(first), "\(module).docc/\(article): \(first) is not imported by \(#fileID)")
                        lines.removeFirst()
                    }
                    while lines.first == "" { lines.removeFirst() }
                    #expect(compiled[name] == lines.joined(separator: "\n"),
                            "\(module).docc/\(article), Swift block \(i): not the code of `// DOCS: \(name)` in \(#fileID)")
                    shown.insert(name)
                }
            }
        }
        #expect(Set(compiled.keys).subtracting(shown).isEmpty, "DOCS blocks no article shows: \(Set(compiled.keys).subtracting(shown).sorted())")
        #expect(shown.count >= 12)
    }

    /// The typed-events snippets, server and client, talking in this process: the history
    /// request, the send the router stores, a typed push the client's stream shows.
    @Test func typedEventsSnippetsRun() async throws {
        let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
        let rooms = Rooms()
        let router = TypedEventsSnippets.serve(chsk, rooms: rooms)
        defer { router.stop() }
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(params: ["uid": "alice"]),
                                         transport: InMemoryTransport(server: chsk))
        await client.start()
        let shown = Mutex<[ChatMessage]>([])
        let talking = Task { try await TypedEventsSnippets.talk(client) { message in shown.withLock { $0.append(message) } } }
        #expect(await eventually { await rooms.last(20, in: "lobby").map(\.text) == ["hi"] })
        let push = ChatMessage(author: "bob", text: "hello", sentAt: Instant(millisecondsSinceEpoch: 1_700_000_000_000))
        #expect(await eventually {
            _ = try? await chsk.send(Event(typed: "chat/message", push), to: "alice")
            return shown.withLock { !$0.isEmpty }
        })
        talking.cancel()
        #expect(try await talking.value.isEmpty)   // the history, asked before the send
        #expect(shown.withLock { $0.first?.text } == "hello")
        #expect(await rooms.last(20, in: "lobby").first?.author == "alice")
        await client.disconnect()
    }

    /// The codec snippets do what their comments say.
    @Test func codecSnippetsRun() throws {
        let (v, ev, chat) = try CodecSnippets.edn()
        #expect(v.description == #"{:user/id 42, :tags #{"a" "b"}, :at #inst "2024-01-01T00:00:00.000-00:00"}"#)
        #expect(ev == .vector([.keyword(Keyword("my-app/chat")), [.kw("text"): .string("hi"), .kw("n"): 1]]))
        #expect(chat == "lobby hi")
        let (bytes, transitChat) = try CodecSnippets.transit()
        #expect(String(decoding: bytes, as: UTF8.self) == #"["^ ","~:room","lobby","~:text","hi"]"#)
        #expect(transitChat == "lobby hi")
    }
}
