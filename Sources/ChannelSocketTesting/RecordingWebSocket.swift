public import ChannelSocket
import Synchronization

/// An in-memory WebSocket outbound: records every message the server writes and the close,
/// so tests (and apps) drive a `ChannelSocketServer` without sockets.
public final class RecordingWebSocket: WebSocketOutbound {
    struct State {
        var messages: [String] = []
        var consumed = 0
        var closeCode: UInt16?
        var closeReason: String?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    let state = Mutex(State())

    /// An empty recorder.
    public init() {}

    public func write(_ message: [UInt8], binary: Bool) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.messages.append(String(decoding: message, as: UTF8.self))
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    public func close(code: UInt16, reason: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if s.closeCode == nil {
                s.closeCode = code
                s.closeReason = reason
            }
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Every message written so far.
    public var messages: [String] { state.withLock { $0.messages } }
    /// The close code, once the server closed the socket.
    public var closeCode: UInt16? { state.withLock { $0.closeCode } }
    /// The close reason.
    public var closeReason: String? { state.withLock { $0.closeReason } }

    /// Messages written since the last call.
    public func drain() -> [String] {
        state.withLock { s in
            defer { s.consumed = s.messages.count }
            return Array(s.messages[s.consumed...])
        }
    }

    /// The next unread message, waiting (cooperatively) up to `polls` settle rounds of the
    /// given clock; `nil` when none arrives.
    public func next(settling clock: ManualClock, rounds: Int = 20) async -> String? {
        for _ in 0..<rounds {
            let message = state.withLock { s -> String? in
                guard s.consumed < s.messages.count else { return nil }
                defer { s.consumed += 1 }
                return s.messages[s.consumed]
            }
            if let message { return message }
            await clock.settle()
        }
        return nil
    }
}
