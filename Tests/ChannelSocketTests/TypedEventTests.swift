import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import TestSupport
import Testing

/// Typed events: `EventRouter.on(_:as:)` / `onRequest`, the client's `request(_:_:as:)`,
/// `send(_:_:)` and `events(_:as:)`, over a real engine (in memory).
@Suite struct TypedEventTests {
    struct SendMessage: Codable, Equatable, Sendable {
        var room: String
        var text: String
    }

    struct HistoryQuery: Codable, Equatable, Sendable {
        var room: String
        var limit: Int
    }

    struct ChatMessage: Codable, Equatable, Sendable {
        var author: String
        var text: String
        var sentAt: Instant
        var tags: Set<Keyword>
    }

    struct History: Codable, Equatable, Sendable {
        var room: String
        var messages: [ChatMessage]
    }

    final class Box<T: Sendable>: Sendable {
        let items = Mutex<[T]>([])
        func append(_ x: T) { items.withLock { $0.append(x) } }
        var all: [T] { items.withLock { $0 } }
    }

    static let message = ChatMessage(author: "ann", text: "hi", sentAt: Instant(millisecondsSinceEpoch: 1_700_000_000_000), tags: [.init("chat/new")])

    static func server() throws -> ChannelSocketServer {
        try ChannelSocketServer(options: ChannelSocketServerOptions(userID: { $0.params["uid"].map(EDNValue.string) }, csrf: .token("tok")))
    }

    static func client(_ server: ChannelSocketServer, _ type: ClientType, uid: String = "ann") async -> ChannelSocketClient {
        let client = ChannelSocketClient(url: "http://127.0.0.1/chsk", options: .init(type: type, csrfToken: "tok", params: ["uid": uid]),
                                         transport: InMemoryTransport(server: server))
        await client.start()
        _ = await eventually { await client.currentState.isOpen }
        return client
    }

    @Test(.timeLimit(.minutes(1)), arguments: [ClientType.ws, .ajax])
    func typedRequestReplyAndMismatchAnsweredAsUnhandled(_ type: ClientType) async throws {
        let server = try Self.server()
        let logs = Box<String>(), sent = Box<SendMessage>(), payloadErrors = Box<EventPayloadError>()
        let stop = EventRouter()
            .onRequest("chat/history", as: HistoryQuery.self) { _, query in
                History(room: query.room, messages: Array(repeating: Self.message, count: query.limit))
            }
            .on("chat/send", as: SendMessage.self) { _, message in sent.append(message) }
            .onPayloadError { _, error in payloadErrors.append(error) }
            .otherwise { message in message.reply(.kw("my-app/unhandled")) }
            .logging { _, text in logs.append(text) }
            .start(on: server)
        defer { stop.stop() }
        let client = await Self.client(server, type)

        // A typed request: the payload encoded, the reply decoded.
        let history = try await client.request("chat/history", HistoryQuery(room: "lobby", limit: 2), as: History.self, timeout: .seconds(5))
        #expect(history == History(room: "lobby", messages: [Self.message, Self.message]))

        // A typed send reaches its handler decoded.
        try await client.send("chat/send", SendMessage(room: "lobby", text: "hello"))
        #expect(await eventually { sent.all == [SendMessage(room: "lobby", text: "hello")] })

        // A payload of the wrong shape: logged with its path, never reaches the handler, and
        // answered as an unhandled event (the fallback replies).
        let reply = try await client.request(Event("chat/history", [.kw("room"): "lobby", .kw("limit"): "two"]), timeout: .seconds(5))
        #expect(reply == .kw("my-app/unhandled"))
        #expect(await eventually { logs.all.contains { $0.contains(":chat/history") && $0.contains("at limit") && $0.contains("HistoryQuery") } })
        #expect(payloadErrors.all.map(\.codingPath) == [["limit"]])
        // A one-element event (no data) does not decode as a struct either.
        #expect(try await client.request(Event("chat/history"), timeout: .seconds(5)) == .kw("my-app/unhandled"))

        // A reply that does not decode as the type asked: a typed error naming the path.
        do {
            _ = try await client.request("chat/history", HistoryQuery(room: "lobby", limit: 1), as: [String: Int].self, timeout: .seconds(5))
            Issue.record("decoded a mismatching reply")
        } catch let error as EventPayloadError {
            #expect(error.codingPath == ["room"])
            #expect(error.eventID == Keyword("chat/history"))
        }
        await client.disconnect()
        await server.shutdown()
    }

    @Test func aMismatchWithNoFallbackGetsNoReply() async throws {
        let server = try Self.server()
        let logs = Box<String>()
        let stop = EventRouter()
            .on("chat/send", as: SendMessage.self) { message, _ in message.reply(.kw("ok")) }
            .logging { _, text in logs.append(text) }
            .start(on: server)
        defer { stop.stop() }
        let client = await Self.client(server, .ws)
        #expect(try await client.request("chat/send", SendMessage(room: "r", text: "t"), as: Keyword.self, timeout: .seconds(5)) == Keyword("ok"))
        await #expect(throws: RequestError.timeout) {
            _ = try await client.request("chat/send", ["room": "r"], as: Keyword.self, timeout: .milliseconds(300))
        }
        #expect(logs.all.count == 1)
        #expect(logs.all.first?.contains("No :text") == true)
        await client.disconnect()
        await server.shutdown()
    }

    @Test(.timeLimit(.minutes(1)), arguments: [ClientType.ws, .ajax])
    func typedEventStreamsOfPushes(_ type: ClientType) async throws {
        let server = try Self.server()
        let client = await Self.client(server, type)
        let mismatches = Box<EventPayloadError>()
        let messages = client.events("chat/message", as: ChatMessage.self) { mismatches.append($0) }
        let other = client.events("chat/other", as: String.self)
        try await server.send(Event(typed: "chat/message", Self.message), to: "ann", flush: true)
        try await server.send(Event("chat/message", [.kw("author"): 1]), to: "ann", flush: true)
        try await server.send(Event(typed: "chat/other", "x"), to: "ann", flush: true)
        try await server.send(Event(typed: "chat/message", Self.message), to: "ann", flush: true)
        var got: [ChatMessage] = []
        for await m in messages {
            got.append(m)
            if got.count == 2 { break }
        }
        #expect(got == [Self.message, Self.message])
        #expect(mismatches.all.count == 1)
        var it = other.makeAsyncIterator()
        #expect(await it.next() == "x")
        await client.disconnect()
        await server.shutdown()
    }
}
