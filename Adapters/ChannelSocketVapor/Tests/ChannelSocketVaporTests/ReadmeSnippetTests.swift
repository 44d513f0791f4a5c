import ChannelSocket
import ChannelSocketClientNIO
import ChannelSocketVapor
import EDN
import Foundation
import Testing
import Vapor

/// The README's snippet, line for line (between `Application.make` and `app.execute()`), as
/// compiled code: an app built the way the docs show answers a client.
enum ReadmeSnippet {
    static func configure(_ app: Application) throws -> ChannelSocketServer {
        // --- README snippet begins
        let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
        app.channelSocket(chsk, at: "chsk")   // GET: WebSocket or Ajax long-poll; POST: Ajax events
        Task {
            for await message in chsk.events where message.wantsReply {
                message.reply([.kw("you-sent"): message.event.value, .kw("uid"): message.uid])
            }
        }
        // --- README snippet ends
        return chsk
    }
}

@Suite struct ReadmeSnippetTests {
    @Test(arguments: [ClientType.ws, .ajax])
    func theReadmeAppAnswersAClient(type: ClientType) async throws {
        let app = try await Application.make(Environment(name: "testing", arguments: ["vapor", "serve", "--hostname", "127.0.0.1", "--port", "0"]))
        app.logger.logLevel = .warning
        _ = try ReadmeSnippet.configure(app)
        let run = Task { try await app.execute() }
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        while port == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            port = app.http.server.shared.localAddress?.port
        }
        if let port {
            let client = ChannelSocketClient(url: "http://127.0.0.1:\(port)/chsk",
                                             options: .init(type: type, params: ["uid": "readme"]), transport: NIOClientTransport())
            await client.start()
            let open = Date().addingTimeInterval(10)
            while await !client.currentState.isOpen && Date() < open { try await Task.sleep(for: .milliseconds(10)) }
            let reply = try? await client.request(Event("app/hello", "vapor"), timeout: .seconds(10))
            #expect(reply?[.kw("you-sent")] == [.kw("app/hello"), "vapor"])
            #expect(reply?[.kw("uid")] == "readme")
            await client.disconnect()
        }
        #expect(port != nil, "the app did not listen")
        app.running?.stop()
        _ = await run.result
        try await app.asyncShutdown()
    }
}
