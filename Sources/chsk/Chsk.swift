import ArgumentParser

/// `chsk`: Sente channel sockets from the terminal.
@main
struct Chsk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chsk",
        abstract: "Sente channel sockets (WebSocket + Ajax long-poll) and EDN/Transit from the terminal.",
        discussion: """
            chsk speaks the wire protocol of Sente (Clojure/ClojureScript realtime channel \
            sockets), both generations: v1 framing (Sente <= 1.16) and v2 framing (1.18+).
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, ConnectCommand.self, SendCommand.self, AwaitCommand.self, WatchCommand.self, BenchCommand.self, PackCommand.self, UnpackCommand.self]
    )
}
