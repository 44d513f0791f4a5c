public import ChannelSocket
import Synchronization

/// A clock that only moves when told to: servers and clients built on it run their timing
/// rules (batching windows, long-poll timeouts, grace periods, keep-alive) deterministically,
/// without real waiting.
///
/// ```swift
/// let clock = ManualClock()
/// let server = try ChannelSocketServer(options: .init(clock: clock))
/// await clock.advance(by: .seconds(20))     // a held long-poll answers :chsk/timeout
/// ```
public final class ManualClock: ChannelSocketClock {
    struct Sleeper {
        let id: UInt64
        let deadline: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }
    struct State {
        var now: Duration = .zero
        var sleepers: [Sleeper] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }
    let state = Mutex(State())

    /// A clock at time zero.
    public init() {}

    public func now() -> Duration { state.withLock { $0.now } }

    /// The number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        if duration <= .zero { return }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelledEarly = state.withLock { s -> Bool in
                    if s.cancelled.remove(id) != nil { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: s.now + duration, continuation: continuation))
                    return false
                }
                if cancelledEarly { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let i = s.sleepers.firstIndex(where: { $0.id == id }) { return s.sleepers.remove(at: i) }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking sleepers in deadline order; sleepers that a woken task adds
    /// within the window wake too. Returns after the woken tasks had a chance to run.
    public func advance(by duration: Duration) async {
        let target = state.withLock { $0.now } + duration
        while true {
            await settle()
            let due = state.withLock { s -> [Sleeper] in
                guard let earliest = s.sleepers.map(\.deadline).min(), earliest <= target else {
                    s.now = target
                    return []
                }
                s.now = earliest
                let ready = s.sleepers.filter { $0.deadline == earliest }
                s.sleepers.removeAll { $0.deadline == earliest }
                return ready
            }
            if due.isEmpty { break }
            for sleeper in due { sleeper.continuation.resume() }
        }
        await settle()
    }

    /// Lets other tasks run (resumed sleepers, actor hops) before the test looks at results.
    public func settle() async {
        for _ in 0..<3 {
            for _ in 0..<20 { await Task.yield() }
            try? await Task.sleep(for: .microseconds(200))
        }
    }
}
