import Foundation

/// A command on a real terminal (a detached tmux session, 120×30), for readline behaviour:
/// keys typed in, the screen read back. `close()` ends the session.
struct TmuxSession {
    static let tmux = "/usr/bin/tmux"
    let name: String

    init(_ name: String, command: String) {
        self.name = name
        _ = ServeProcess.run(Self.tmux, ["new-session", "-d", "-s", name, "-x", "120", "-y", "30", command])
    }

    func close() { _ = ServeProcess.run(Self.tmux, ["kill-session", "-t", name]) }

    /// What the terminal shows now.
    var screen: String { ServeProcess.run(Self.tmux, ["capture-pane", "-p", "-t", name]).output }

    /// Types `text` literally.
    func type(_ text: String) { _ = ServeProcess.run(Self.tmux, ["send-keys", "-t", name, "-l", text]) }

    /// Presses a key by tmux's name for it (`Enter`, `C-c`, `C-d`).
    func press(_ key: String) { _ = ServeProcess.run(Self.tmux, ["send-keys", "-t", name, key]) }

    /// Whether `text` is on the screen within 10 s.
    func waitFor(_ text: String) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if screen.contains(text) { return true }
            usleep(100_000)
        }
        return false
    }
}
