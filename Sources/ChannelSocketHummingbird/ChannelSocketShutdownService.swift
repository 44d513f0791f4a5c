public import ChannelSocket
public import ServiceLifecycle

/// Graceful shutdown of a channel socket, as a swift-service-lifecycle `Service`: put it in
/// the `ServiceGroup` (or the `services:` of Hummingbird's `Application`) that runs the app
/// the channel socket is embedded in.
///
/// It does nothing until graceful shutdown (SIGTERM/SIGINT through the group's
/// `gracefulShutdownSignals`, or `ServiceGroup.triggerGracefulShutdown()`); then it answers
/// held long-polls, closes every WebSocket with 1001 (going away) and waits, at most
/// `timeout`, until the sockets have closed. A client that does not answer the close is
/// dropped when the connection's own shutdown timeout (`HTTPLimits.shutdownTimeout`) is up,
/// so the app's graceful shutdown ends in bounded time with clients connected.
///
/// ```swift
/// let services = ServiceGroup(configuration: .init(
///     services: [app, ChannelSocketShutdownService(server: chsk)],
///     gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await services.run()
/// ```
public struct ChannelSocketShutdownService: Service {
    /// The engine shut down.
    public let server: ChannelSocketServer
    /// The longest wait for the WebSockets to close after their 1001 close frame.
    public let timeout: Duration

    /// A shutdown service for `server`.
    /// - Parameters:
    ///   - server: the channel socket's engine.
    ///   - timeout: the longest wait for the sockets to close (default 5 s, the default
    ///     `HTTPLimits.shutdownTimeout`).
    public init(server: ChannelSocketServer, timeout: Duration = .seconds(5)) {
        self.server = server
        self.timeout = timeout
    }

    /// Waits for graceful shutdown (or cancellation), then shuts the engine down.
    public func run() async throws {
        try? await gracefulShutdown()
        await server.shutdown(waitingForCloses: timeout)
    }
}
