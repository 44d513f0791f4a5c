import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Terminal facts: colour only on a TTY and without NO_COLOR (https://no-color.org).
enum Terminal {
    static let colorEnabled: Bool = isatty(2) == 1 && getenv("NO_COLOR") == nil

    static func dim(_ s: String) -> String { colorEnabled ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    static func red(_ s: String) -> String { colorEnabled ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    static func yellow(_ s: String) -> String { colorEnabled ? "\u{1B}[33m\(s)\u{1B}[0m" : s }

    /// The width to wrap text to: `COLUMNS`, else the terminal's width, else 80.
    static var columns: Int {
        if let text = getenv("COLUMNS"), let n = Int(String(cString: text)), n > 20 { return n }
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 80
    }

    /// UTC date and time, ISO 8601 with milliseconds: `2026-12-05T12:00:01.123Z`.
    static func isoTimestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(Int(ts.tv_nsec) / 1_000_000, 3))Z"
    }

    /// UTC wall-clock time `HH:MM:SS.mmm`.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = (Int(ts.tv_sec) % 86_400) * 1000 + Int(ts.tv_nsec) / 1_000_000
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(ms / 3_600_000, 2)):\(pad(ms / 60_000 % 60, 2)):\(pad(ms / 1000 % 60, 2)).\(pad(ms % 1000, 3))"
    }
}

/// `text` with each line longer than `width - 1` columns broken at spaces; lines that start
/// with a space (examples, tables) are kept as they are.
func wrapText(_ text: String, width: Int) -> String {
    var lines: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.first == " " || line.count < width {
            lines.append(String(line))
            continue
        }
        var current = ""
        for word in line.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count >= width {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        lines.append(current)
    }
    return lines.joined(separator: "\n")
}

/// One readable line per log entry on stderr: `12:00:01.123 INFO  message`.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String
    /// Modules whose entries below warning are dropped: Hummingbird's and ServiceLifecycle's
    /// lifecycle lines ("Server started and listening on …", "Starting service") repeat
    /// chsk's own, at every level.
    var quietSources: Set<String> = []

    init(logLevel: Logger.Level, label: String, quietSources: Set<String> = []) {
        self.logLevel = logLevel
        self.label = label
        self.quietSources = quietSources
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        if level < .warning, !quietSources.isEmpty, quietSources.contains(event.source) { return }
        var name = level.rawValue.uppercased()
        name += String(repeating: " ", count: max(0, 5 - name.count))
        let tag: String
        switch level {
        case .warning: tag = Terminal.yellow(name)
        case .error, .critical: tag = Terminal.red(name)
        default: tag = name
        }
        let line = "\(Terminal.dim(Terminal.timestamp())) \(tag) \(event.message)\n"
        // While a readline prompt is on screen, log lines go above it (never through it).
        if let editor = logEditor.withLock({ $0 }) {
            editor.print(line)
            return
        }
        stderrLock.withLock { _ in writeAll(2, Array(line.utf8)) }
    }
}

let stderrLock = Mutex(())

/// The interactive line editor that log lines must be printed through, if any.
let logEditor = Mutex<LineEditor?>(nil)
