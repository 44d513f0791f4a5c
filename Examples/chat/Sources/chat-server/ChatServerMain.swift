import ChatServer
import Foundation

/// `chat-server [--host 127.0.0.1] [--port 8090] [--public DIR] [--no-websocket]`: serves the
/// chat page and its channel socket (`/chsk`) until SIGINT/SIGTERM. `--port 0` picks a free
/// port; the first line on stdout names the URL.
@main
struct ChatServerMain {
    static func main() async throws {
        var host = "127.0.0.1", port = 8090, publicDir = ChatServer.defaultPublicDirectory, allowWS = true
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let arg = args.next() {
            switch arg {
            case "--host": host = args.next() ?? host
            case "--port": port = args.next().flatMap(Int.init) ?? port
            case "--public": publicDir = args.next() ?? publicDir
            case "--no-websocket": allowWS = false
            case "-h", "--help":
                print("usage: chat-server [--host 127.0.0.1] [--port 8090] [--public DIR] [--no-websocket]")
                return
            default:
                FileHandle.standardError.write(Data("chat-server: unknown argument \(arg)\n".utf8))
                exit(2)
            }
        }
        let chat = try ChatServer(host: host, port: port, publicDirectory: publicDir, allowWebSocket: allowWS)
        let (shownHost, shownDir) = (host, publicDir)
        try await chat.run { bound in
            // unbuffered: scripts read the bound port from this line
            FileHandle.standardOutput.write(Data("chat-server: http://\(shownHost):\(bound)/ (static files from \(shownDir))\n".utf8))
        }
    }
}
