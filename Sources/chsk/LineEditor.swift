import CReadline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Interactive input for `chsk serve` and `chsk connect`: GNU readline (history, editing, tab
/// completion) when stdin is a terminal, plain lines otherwise so scripts can drive it.
/// Output printed with `print(_:)` while the user types appears above the prompt and the
/// half-typed line is redrawn intact (readline's callback interface on its own thread).
final class LineEditor: Sendable {
    /// Entered lines; finishes at end of input (Ctrl-D) or `shutdown()`.
    let lines: AsyncStream<String>
    let isInteractive: Bool
    let historyFile: String?
    private let pipeFDs: (read: Int32, write: Int32)
    private let thread = Mutex<pthread_t?>(nil)

    /// - Parameters:
    ///   - prompt: shown before each line (terminal only).
    ///   - historyFile: where history is loaded from and saved to (terminal only).
    ///   - words: candidates for tab completion, asked each time.
    init(prompt: String, historyFile: String?, words: @escaping @Sendable () -> [String]) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        lines = stream
        isInteractive = isatty(0) == 1 && isatty(1) == 1
        self.historyFile = historyFile
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        pipeFDs = (fds[0], fds[1])
        editorShared.withLock {
            $0.continuation = continuation
            $0.words = words
            $0.prompt = prompt
            $0.pipeRead = fds[0]
            $0.interactive = isInteractive
            $0.historyFile = historyFile
        }
        if isInteractive, let historyFile {
            _ = read_history(historyFile)
        }
        var tid = pthread_t()
        let created = pthread_create(&tid, nil, { _ in
            editorThreadMain()
            return nil
        }, nil)
        if created == 0 { thread.withLock { $0 = tid } }
    }

    /// Prints text (a full line or more) without disturbing the line being typed.
    func print(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        if !isInteractive {
            writeAll(1, Array(line.utf8))
            return
        }
        editorShared.withLock { $0.pendingOutput.append(line) }
        var byte: UInt8 = 1
        _ = write(pipeFDs.write, &byte, 1)
    }

    /// Ctrl-C at the prompt: abandons the line being typed and shows a fresh prompt.
    func interrupt() {
        editorShared.withLock { $0.interruptRequested = true }
        var byte: UInt8 = 2
        _ = write(pipeFDs.write, &byte, 1)
    }

    /// Ends `lines` as end of input would (a script's Ctrl-C).
    func finishInput() {
        editorShared.withLock { _ = $0.continuation?.finish() }
    }

    /// Stops reading, restores the terminal and saves history.
    func shutdown() {
        editorShared.withLock { $0.stopRequested = true }
        var byte: UInt8 = 0
        _ = write(pipeFDs.write, &byte, 1)
        if let tid = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) {
            if isInteractive {
                pthread_join(tid, nil)
            } else {
                // A plain read(2) on stdin cannot be interrupted portably; let the thread go.
                pthread_detach(tid)
            }
        }
        if isInteractive, let historyFile {
            _ = write_history(historyFile)
            _ = history_truncate_file(historyFile, 1000)
        }
    }
}

struct EditorShared: @unchecked Sendable {
    var continuation: AsyncStream<String>.Continuation?
    var words: @Sendable () -> [String] = { [] }
    var prompt = "> "
    var pipeRead: Int32 = -1
    var interactive = false
    var pendingOutput: [String] = []
    var stopRequested = false
    var interruptRequested = false
    var historyFile: String?
    var completionWords: [String] = []
    var completionIndex = 0
}

/// readline's callbacks are C functions without context: they reach the editor through this.
let editorShared = Mutex(EditorShared())

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n <= 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

private func editorThreadMain() {
    let (interactive, pipeRead, prompt) = editorShared.withLock { ($0.interactive, $0.pipeRead, $0.prompt) }
    if !interactive {
        plainReadLoop()
        return
    }
    chsk_rl_set_completion { text, _, _ in
        let prefix = text.map { String(cString: $0) } ?? ""
        editorShared.withLock { s in
            s.completionWords = s.words().filter { $0.hasPrefix(prefix) }.sorted()
            s.completionIndex = 0
        }
        chsk_rl_completion_over()
        return rl_completion_matches(text) { _, _ in
            editorShared.withLock { s -> UnsafeMutablePointer<CChar>? in
                guard s.completionIndex < s.completionWords.count else { return nil }
                defer { s.completionIndex += 1 }
                return strdup(s.completionWords[s.completionIndex])
            }
        }
    }
    // The terminal is read only while this process is its foreground process group: a
    // background job (`chsk serve &`) that reads it gets SIGTTIN or EIO, which readline takes
    // for end of input; and readline's terminal setup from the background would stop the job
    // (SIGTTOU). So readline is installed on first becoming foreground, and stdin is left
    // alone while in the background (output still appears).
    var installed = false
    var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: pipeRead, events: Int16(POLLIN), revents: 0)]
    while true {
        if editorShared.withLock({ $0.stopRequested }) { break }
        let foreground = tcgetpgrp(0) == getpgrp()
        if foreground && !installed {
            rl_callback_handler_install(prompt, lineEntered)
            installed = true
        }
        fds[0].fd = foreground ? 0 : -1
        fds[0].revents = 0
        fds[1].revents = 0
        let n = poll(&fds, 2, foreground ? -1 : 300)
        if n < 0 { if errno == EINTR { continue }; break }
        if fds[1].revents != 0 {
            var sink = [UInt8](repeating: 0, count: 256)
            _ = read(pipeRead, &sink, 256)
            let output = editorShared.withLock { s -> [String] in defer { s.pendingOutput = [] }; return s.pendingOutput }
            if !installed {
                for text in output { writeAll(1, Array(text.utf8)) }
                _ = editorShared.withLock { s -> Bool in defer { s.interruptRequested = false }; return s.interruptRequested }
                continue
            }
            if editorShared.withLock({ s -> Bool in defer { s.interruptRequested = false }; return s.interruptRequested }) {
                // Ctrl-C: show it, drop the typed text, start a fresh line.
                writeAll(1, Array("^C\n".utf8))
                rl_replace_line("", 0)
                rl_on_new_line()
                rl_redisplay()
                fflush(nil)
            }
            if !output.isEmpty {
                // readline writes through stdio: flush its clear before our raw writes, and
                // its redisplay after them, or the bytes reach the terminal out of order.
                rl_clear_visible_line()
                fflush(nil)
                for text in output { writeAll(1, Array(text.utf8)) }
                rl_on_new_line()
                rl_redisplay()
                fflush(nil)
            }
        }
        if editorShared.withLock({ $0.stopRequested }) { break }
        if fds[0].revents != 0, tcgetpgrp(0) == getpgrp() { rl_callback_read_char() }
    }
    if installed { rl_callback_handler_remove() }
    editorShared.withLock { $0.continuation?.finish() }
}

/// readline's handler for a finished line (nil: end of input).
private func lineEntered(_ raw: UnsafeMutablePointer<CChar>?) {
    guard let raw else {
        editorShared.withLock { $0.continuation?.finish() }
        rl_callback_handler_remove()
        editorShared.withLock { $0.stopRequested = true }
        return
    }
    let line = String(cString: raw)
    if !line.isEmpty {
        add_history(raw)
        // Saved at once, so no exit path (a kill, a crash) loses the session's history.
        if let file = editorShared.withLock({ $0.historyFile }) {
            if append_history(1, file) != 0 { _ = write_history(file) }
        }
    }
    free(raw)
    editorShared.withLock { _ = $0.continuation?.yield(line) }
}

private func plainReadLoop() {
    readLines(fd: 0, droppingCarriageReturns: true) { text in
        editorShared.withLock { _ = $0.continuation?.yield(text) }
    }
    editorShared.withLock { $0.continuation?.finish() }
}
