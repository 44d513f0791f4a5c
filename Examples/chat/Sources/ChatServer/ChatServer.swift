import ChannelSocket
import ChannelSocketHummingbird
import EDN
import Foundation
import Hummingbird
import Synchronization

// MARK: - Typed events (the wire shapes, as EDN maps with keyword keys)

/// `[:chat/send {:name "ann" :text "hi"}]`: a message to the sender's room.
public struct SendMessage: Codable, Sendable, Equatable {
    public var name: String
    public var text: String
    public init(name: String, text: String) { self.name = name; self.text = text }
}

/// `[:chat/history {:limit 50}]` (a request): the last messages of the sender's room.
public struct HistoryQuery: Codable, Sendable, Equatable {
    public var limit: Int
    public init(limit: Int) { self.limit = limit }
}

/// One message of a room, as stored, replied to `:chat/history` and pushed as
/// `[:chat/message {:id 1 :room "r" :name "ann" :text "hi" :at 1733390000000}]`.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var id: Int
    public var room: String
    public var name: String
    public var text: String
    /// Milliseconds since 1970.
    public var at: Int
    public init(id: Int, room: String, name: String, text: String, at: Int) {
        self.id = id; self.room = room; self.name = name; self.text = text; self.at = at
    }
}

/// The reply to `:chat/send`.
public struct SendReceipt: Codable, Sendable, Equatable {
    public var ok: Bool
    public var id: Int
}

// MARK: - Rooms

/// Each room's history (the newest `capacity` messages).
public actor ChatRooms {
    private var rooms: [String: [ChatMessage]] = [:]
    private var nextID = 1
    public let capacity: Int

    public init(capacity: Int = 200) { self.capacity = capacity }

    /// Stores a message and returns it with its id and time.
    public func post(_ send: SendMessage, in room: String) -> ChatMessage {
        let message = ChatMessage(id: nextID, room: room, name: send.name, text: send.text,
                                  at: Int(Date().timeIntervalSince1970 * 1000))
        nextID += 1
        var history = rooms[room, default: []]
        history.append(message)
        if history.count > capacity { history.removeFirst(history.count - capacity) }
        rooms[room] = history
        return message
    }

    /// The last `limit` messages of a room, oldest first.
    public func last(_ limit: Int, in room: String) -> [ChatMessage] {
        Array(rooms[room, default: []].suffix(max(0, limit)))
    }
}

// MARK: - Server

/// The chat app: a channel socket whose uid is the room (`?room=NAME` on the connection, so a
/// push to a uid reaches everyone in that room), an `EventRouter` with typed handlers, and the
/// page under `public/` as static files.
public struct ChatServer: Sendable {
    public let server: ChannelSocketServer
    public let rooms: ChatRooms
    public let application: ChannelSocketApplication

    /// The uid of a connection: its `room` parameter (nil, i.e. no room, when missing or empty).
    public static func room(of request: ConnectionRequest) -> EDNValue? {
        guard let room = request.params["room"]?.trimmingCharacters(in: .whitespaces), !room.isEmpty,
              room.count <= 64 else { return nil }
        return .string(room)
    }

    public init(host: String = "127.0.0.1", port: Int = 8090, publicDirectory: String?,
                allowWebSocket: Bool = true, historyCapacity: Int = 200) throws {
        var options = ChannelSocketServerOptions(userID: ChatServer.room(of:))
        options.allowWebSocket = allowWebSocket
        server = try ChannelSocketServer(options: options)
        rooms = ChatRooms(capacity: historyCapacity)
        application = ChannelSocketApplication(
            server: server, configuration: .init(host: host, port: port, path: "/chsk", staticDirectory: publicDirectory))
    }

    /// The router: `:chat/send` stores and pushes the message to the room, answering a
    /// receipt when asked; `:chat/history` answers the room's last messages.
    public func router() -> EventRouter {
        let rooms = self.rooms
        let server = self.server
        return EventRouter()
            .on("chat/send", as: SendMessage.self) { msg, send in
                guard case .string(let room) = msg.uid else { return }
                let text = String(send.text.prefix(2000)), name = String(send.name.prefix(40))
                guard !text.isEmpty else { return }
                let message = await rooms.post(SendMessage(name: name.isEmpty ? "anonymous" : name, text: text), in: room)
                if let event = try? Event(typed: "chat/message", message) {
                    _ = try? await server.send(event, to: msg.uid, flush: true)
                }
                if msg.wantsReply { try? msg.reply(encoding: SendReceipt(ok: true, id: message.id)) }
            }
            .onRequest("chat/history", as: HistoryQuery.self) { (msg, query) async -> [ChatMessage] in
                guard case .string(let room) = msg.uid else { return [ChatMessage]() }
                return await rooms.last(min(query.limit, 200), in: room)
            }
    }

    /// Serves until cancelled (or SIGINT/SIGTERM); `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let stop = router().start(on: server)
        defer { stop.stop() }
        let app = try application.build(onServerRunning: onRunning)
        try await app.runService()
    }

    /// The `public/` folder next to this package's sources (for `swift run` from anywhere).
    public static var defaultPublicDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("public").path
    }
}
