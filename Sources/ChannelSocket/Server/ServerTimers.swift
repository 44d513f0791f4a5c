import Synchronization

/// Every timer of a server on one task: the WebSockets' keep-alive steps (a sleeping task per
/// connection cost 3.3 KB of memory each) and the registry's long-poll timeouts and reconnect
/// grace periods (a task per poll, created and cancelled for every answered poll, was a large
/// part of an Ajax round's cost). Each timer fires at its own deadline, so the timing is
/// exactly what a task per timer would give.
///
/// Timers wait in one FIFO queue per delay (the keep-alive windows, the ping timeout, the
/// long-poll timeout, the two grace periods): a queue's entries are appended in deadline
/// order, so the next timer is the earliest head. The task sleeps until then, and ends when
/// nothing is pending; a new timer restarts it, or replaces it when the new one is due before
/// the current sleep ends. A cancelled registry timer stays queued until its deadline and is
/// skipped then (cancelling costs one atomic store, no task).
final class ServerTimers: Sendable {
    enum Step: Sendable { case window, pongCheck }

    /// A registry timer that may be cancelled.
    final class Handle: Sendable {
        let cancelled = Atomic<Bool>(false)
        func cancel() { cancelled.store(true, ordering: .relaxed) }
        var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    }

    enum Action: Sendable {
        case keepAlive(WeakConnection, Step)
        /// Run on the registry; due ones are run together, in one visit to the actor.
        case registry(Handle, @Sendable (isolated ServerRegistry) -> Void)
    }

    struct WeakConnection: Sendable { weak var connection: WebSocketConnection? }

    struct Entry {
        let deadline: Duration
        let action: Action
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
    let registry: ServerRegistry
    let state = Mutex(State())

    init(clock: any ChannelSocketClock, registry: ServerRegistry) {
        self.clock = clock
        self.registry = registry
    }

    /// Runs `step` for `connection` after `delay`.
    func schedule(_ connection: WebSocketConnection, _ step: Step, after delay: Duration) {
        add(.keepAlive(WeakConnection(connection: connection), step), after: delay)
    }

    /// Runs `body` on the registry after `delay`, unless the returned handle is cancelled first.
    func schedule(after delay: Duration, _ body: @escaping @Sendable (isolated ServerRegistry) -> Void) -> Handle {
        let handle = Handle()
        add(.registry(handle, body), after: delay)
        return handle
    }

    private func add(_ action: Action, after delay: Duration) {
        let deadline = clock.now() + delay
        state.withLock { s in
            s.queues[delay, default: Queue()].items.append(Entry(deadline: deadline, action: action))
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

    /// Cancels the loop (server shutdown); pending timers are dropped.
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
            var registryActions: [@Sendable (isolated ServerRegistry) -> Void] = []
            for entry in due {
                switch entry.action {
                case .keepAlive(let weak, let step):
                    if let connection = weak.connection { await connection.keepAliveStep(step) }
                case .registry(let handle, let body):
                    if !handle.isCancelled { registryActions.append(body) }
                }
            }
            if !registryActions.isEmpty { await registry.runTimers(registryActions) }
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
