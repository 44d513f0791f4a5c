import ChannelSocket
import ChannelSocketClientNIO
import ChatServer
import EDN
import Foundation
import Synchronization
import Testing

/// The chat server on a free loopback port, driven by the library's client.
@Suite(.timeLimit(.minutes(1)))
struct ChatServerTests {
    /// Starts the server (port 0) and returns it with its bound port and the task serving it.
    static func start(allowWebSocket: Bool = true) async throws -> (ChatServer, Int, Task<Void, any Error>) {
        let chat = try ChatServer(host: "127.0.0.1", port: 0, publicDirectory: ChatServer.defaultPublicDirectory,
                                  allowWebSocket: allowWebSocket)
        let bound = PortBox()
        let task = Task { try await chat.run { port in bound.port.withLock { $0 = port } } }
        let deadline = Date().addingTimeInterval(20)
        while bound.port.withLock({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard let port = bound.port.withLock({ $0 }) else { task.cancel(); throw ChatTestError.notListening }
        return (chat, port, task)
    }

    enum ChatTestError: Error { case notListening }
    final class PortBox: Sendable { let port = Mutex<Int?>(nil) }

    static func client(_ port: Int, room: String, id: String, type: ClientType) -> ChannelSocketClient {
        ChannelSocketClient(url: "http://127.0.0.1:\(port)/chsk",
                            options: .init(type: type, protocolGeneration: .v2, clientID: id, params: ["room": room]),
                            transport: NIOClientTransport())
    }

    /// Collects a client's `:chat/message` pushes.
    final class Inbox: Sendable {
        final class Store: Sendable { let items = Mutex<[ChatMessage]>([]) }
        let store: Store
        let task: Task<Void, Never>
        init(_ client: ChannelSocketClient) {
            let stream = client.events("chat/message", as: ChatMessage.self)
            let store = Store()
            self.store = store
            task = Task { for await m in stream { store.items.withLock { $0.append(m) } } }
        }
        var messages: [ChatMessage] { store.items.withLock { $0 } }
        var texts: [String] { messages.map(\.text) }
        func wait(for count: Int, seconds: Double = 10) async -> [ChatMessage] {
            let deadline = Date().addingTimeInterval(seconds)
            while messages.count < count && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
            return messages
        }
    }

    @Test(arguments: [ClientType.ws, .ajax])
    func roomsHistoryAndLiveMessages(type: ClientType) async throws {
        let (_, port, serving) = try await Self.start()
        defer { serving.cancel() }
        let ann = Self.client(port, room: "lobby", id: "ann", type: type)
        let bob = Self.client(port, room: "lobby", id: "bob", type: type)
        let cat = Self.client(port, room: "kitchen", id: "cat", type: type)
        let bobInbox = Inbox(bob), catInbox = Inbox(cat), annInbox = Inbox(ann)
        for c in [ann, bob, cat] {
            await c.start()
            try await c.waitUntilOpen(timeout: .seconds(10))
        }

        // join: an empty history
        #expect(try await ann.request("chat/history", HistoryQuery(limit: 50), as: [ChatMessage].self) == [])

        // a message with a receipt: it reaches ann and bob (room "lobby"), not cat
        let receipt = try await ann.request("chat/send", SendMessage(name: "ann", text: "hello"), as: SendReceipt.self)
        #expect(receipt.ok)
        let bobGot = await bobInbox.wait(for: 1)
        #expect(bobGot.map(\.text) == ["hello"])
        #expect(bobGot.first?.name == "ann" && bobGot.first?.room == "lobby" && bobGot.first?.id == receipt.id)
        #expect(await annInbox.wait(for: 1).map(\.text) == ["hello"])

        // cat's room: its own message only
        try await cat.send("chat/send", SendMessage(name: "cat", text: "meow"))
        #expect(await catInbox.wait(for: 1).map(\.text) == ["meow"])
        try await Task.sleep(for: .milliseconds(300))
        #expect(catInbox.texts == ["meow"])
        #expect(bobInbox.texts == ["hello"])

        // a late joiner sees the room's history
        let dan = Self.client(port, room: "lobby", id: "dan", type: type)
        await dan.start()
        let history = try await dan.request("chat/history", HistoryQuery(limit: 50), as: [ChatMessage].self)
        #expect(history.map(\.text) == ["hello"] && history.map(\.name) == ["ann"])
        let kitchen = try await cat.request("chat/history", HistoryQuery(limit: 50), as: [ChatMessage].self)
        #expect(kitchen.map(\.text) == ["meow"])

        for c in [ann, bob, cat, dan] { await c.disconnect() }
        for inbox in [annInbox, bobInbox, catInbox] { inbox.task.cancel() }
    }

    /// A payload of the wrong shape is not handled (no crash, no message), and the server goes on.
    @Test func badPayloadIsIgnored() async throws {
        let (_, port, serving) = try await Self.start()
        defer { serving.cancel() }
        let ann = Self.client(port, room: "r", id: "ann", type: .ws)
        await ann.start()
        try await ann.send(Event("chat/send", [.kw("text"): 42]))
        try await ann.send("chat/send", SendMessage(name: "ann", text: "ok"))
        let history = try await ann.request("chat/history", HistoryQuery(limit: 10), as: [ChatMessage].self)
        #expect(history.map(\.text) == ["ok"])
        await ann.disconnect()
    }

    /// The static page is served on the same origin.
    @Test func servesThePage() async throws {
        let (_, port, serving) = try await Self.start()
        defer { serving.cancel() }
        for (path, marker) in [("/", "chat.js"), ("/sente.js", "ChannelSocket"), ("/chat.js", "chat/send")] {
            let response = try await NIOClientTransport().http(ClientHTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)"),
                                                                timeout: .seconds(10))
            #expect(response.status == 200, "\(path)")
            #expect(String(decoding: response.body, as: UTF8.self).contains(marker), "\(path)")
        }
    }
}
