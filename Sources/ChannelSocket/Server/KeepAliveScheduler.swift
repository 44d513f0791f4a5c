import Synchronization

/// The keep-alive timers of all of a server's WebSockets on one task (a sleeping task per
/// connection cost 3.3 KB of memory each). Every connection has at most one pending step, due
/// at its own deadline, so the timing is exactly what a task per connection would give.
///
/// Steps wait in one FIFO queue per delay (the v1 window, the v2/auto half window, the ping
/// timeout): a queue's entries are appended in deadline order, so the next step is the
/// earliest head. The task sleeps until then, and ends when nothing is pending; a new step
/// restarts it, or replaces it when the new step is due before the current sleep ends.
final class KeepAliveScheduler: Sendable {
    enum Step: Sendable { case window, pongCheck }

    struct Entry {
        let deadline: Duration
        weak var connection: WebSocketConnection?
        let step: Step
    }

    /// A FIFO with amortised O(1) pops.
    struct Queue {
        var items: [Entry] = []
        var head = 0
        var first: Entry? { head < items.count ? items[head] : nil }
        mutating func pop() -> Entry {
            let e = items[head]
            head += 1
            if head > 64 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return e
        }
    }

    struct State {
        var queues: [Duration: Queue] = [:]
        /// True while a task owns the loop.
        var running = false
        /// The deadline the running task sleeps until (`nil` while it works).
        var sleepingUntil: Duration?
        var task: Task<Void, Never>?

        /// The queue whose head is due first.
        func earliest() -> (delay: Duration, entry: Entry)? {
            var best: (Duration, Entry)?
            for (delay, queue) in queues {
                if let e = queue.first, best == nil || e.deadline < best!.1.deadline { best = (delay, e) }
            }
            return best
        }
    }

    let clock: any ChannelSocketClock
    let state = Mutex(State())

    init(clock: any ChannelSocketClock) { self.clock = clock }

    /// Runs `step` for `connection` after `delay`.
    func schedule(_ connection: WebSocketConnection, _ step: Step, after delay: Duration) {
        let deadline = clock.now() + delay
        state.withLock { s in
            s.queues[delay, default: Queue()].items.append(Entry(deadline: deadline, connection: connection, step: step))
            if !s.running {
                s.running = true
                s.task = Task { await self.run() }
            } else if let until = s.sleepingUntil, deadline < until {
                s.task?.cancel()
                s.sleepingUntil = nil
                s.task = Task { await self.run() }
            }
        }
    }

    /// Cancels the loop (server shutdown); pending steps are dropped.
    func stop() {
        state.withLock { s in
            s.task?.cancel()
            s.task = nil
            s.queues = [:]
            s.running = false
            s.sleepingUntil = nil
        }
    }

    private func run() async {
        while !Task.isCancelled {
            let now = clock.now()
            let due = state.withLock { s -> [Entry] in
                var due: [Entry] = []
                while let (delay, entry) = s.earliest(), entry.deadline <= now {
                    _ = s.queues[delay]!.pop()
                    due.append(entry)
                }
                s.sleepingUntil = nil
                return due
            }
            for entry in due {
                if let connection = entry.connection { await connection.keepAliveStep(entry.step) }
            }
            if Task.isCancelled { return }
            let next = state.withLock { s -> Duration? in
                guard let (_, entry) = s.earliest() else {
                    s.running = false
                    s.task = nil
                    return nil
                }
                s.sleepingUntil = entry.deadline
                return entry.deadline
            }
            guard let next else { return }
            let wait = next - clock.now()
            if wait > .zero {
                do { try await clock.sleep(for: wait) } catch { return }
            }
        }
    }
}
