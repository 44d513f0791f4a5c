import Synchronization

/// Any number of observers of one sequence of values, each with its own stream and its own
/// bounded buffer: a slow or absent reader holds at most its buffer's worth (the oldest
/// dropped beyond it) and never holds up the others or the producer.
final class StreamFanOut<Element: Sendable>: Sendable {
    struct State {
        var nextID: UInt64 = 0
        var sinks: [UInt64: AsyncStream<Element>.Continuation] = [:]
        var finished = false
    }

    let state = Mutex(State())

    /// A new stream of the values yielded from now on, keeping at most `limit` unread ones (the
    /// newest). It finishes at once when `finish()` was called.
    func makeStream(bufferingNewest limit: Int) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .bufferingNewest(max(1, limit)))
        let id = state.withLock { s -> UInt64? in
            if s.finished { return nil }
            s.nextID &+= 1
            s.sinks[s.nextID] = continuation
            return s.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.sinks.removeValue(forKey: id) } }
        return stream
    }

    /// Hands `value` to every stream.
    func yield(_ value: Element) {
        for sink in state.withLock({ Array($0.sinks.values) }) { sink.yield(value) }
    }

    /// Ends every stream, and every stream made later.
    func finish() {
        let sinks = state.withLock { s -> [AsyncStream<Element>.Continuation] in
            s.finished = true
            defer { s.sinks = [:] }
            return Array(s.sinks.values)
        }
        for sink in sinks { sink.finish() }
    }

    /// How many streams are open.
    var count: Int { state.withLock { $0.sinks.count } }
}
