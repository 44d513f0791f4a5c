/// The time source of servers and clients: real time in production, a manual clock in tests
/// (`ChannelSocketTesting.ManualClock`), so timing rules are tested without sleeping.
public protocol ChannelSocketClock: Sendable {
    /// Time elapsed since the clock's origin.
    func now() -> Duration
    /// Suspends for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// Real, monotonic time.
public struct SystemClock: ChannelSocketClock {
    let origin = ContinuousClock.now

    /// A clock whose origin is now.
    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

extension Duration {
    /// The duration in whole milliseconds.
    public var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
