public import ChannelSocket
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import HummingbirdWebSocket
public import Logging
import CoreMetrics
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import ServiceLifecycle

/// A ready-made Hummingbird application around a `ChannelSocketServer`: the channel socket on
/// one path, optional extra routes and static files, optional TLS, graceful shutdown
/// (SIGINT/SIGTERM through swift-service-lifecycle) that answers held polls and closes
/// WebSockets with 1001 first. This is what `chsk serve` runs.
public struct ChannelSocketApplication: Sendable {
    /// Where to listen and what to serve.
    public struct Configuration: Sendable {
        /// Host to bind (default loopback).
        public var host: String
        /// Port; 0 picks a free one (see `onServerRunning`).
        public var port: Int
        /// The channel socket path.
        public var path: String
        /// A folder served as static files on the same origin (`index.html` for folders).
        public var staticDirectory: String?
        /// PEM certificate chain and private key for HTTPS/WSS.
        public var tls: (certificateChain: String, privateKey: String)?
        /// Timeouts and limits of every connection, and the graceful shutdown's deadline.
        public var limits: HTTPLimits

        /// Defaults: `127.0.0.1:8090`, `/chsk`, no static files, no TLS, `HTTPLimits()`.
        public init(host: String = "127.0.0.1", port: Int = 8090, path: String = "/chsk",
                    staticDirectory: String? = nil, tls: (certificateChain: String, privateKey: String)? = nil,
                    limits: HTTPLimits = .init()) {
            self.host = host
            self.port = port
            self.path = path
            self.staticDirectory = staticDirectory
            self.tls = tls
            self.limits = limits
        }
    }

    /// The protocol engine.
    public let server: ChannelSocketServer
    /// Listening settings.
    public let configuration: Configuration
    /// Logger for the HTTP layer.
    public let logger: Logger

    /// An application for a server.
    public init(server: ChannelSocketServer, configuration: Configuration = .init(),
                logger: Logger = Logger(label: "chsk.http", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.server = server
        self.configuration = configuration
        self.logger = logger
    }

    /// Builds the Hummingbird application.
    /// - Parameters:
    ///   - extraRoutes: adds app routes (e.g. the echo app's `/push`) to the HTTP router.
    ///   - onServerRunning: called with the bound port once listening.
    public func build(
        extraRoutes: @Sendable (Router<BasicWebSocketRequestContext>) -> Void = { _ in },
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router(context: BasicWebSocketRequestContext.self)
        if let dir = configuration.staticDirectory {
            router.middlewares.add(FileMiddleware(fileProvider: ConfinedFileSystem(rootFolder: dir, server: server, logger: logger),
                                                  searchForIndexHtml: true))
        }
        ChannelSocketRoutes.addHTTP(server, path: configuration.path, router: router)
        extraRoutes(router)
        var builder = ChannelSocketHTTP1Channel.builder(server: server, path: configuration.path, limits: configuration.limits)
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
            let tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: NIOSSLPrivateKeySource.privateKey(key))
            builder = try HTTPServerBuilder.tls(builder, tlsConfiguration: tlsConfiguration)
        }
        let engine = server
        return Application(
            router: router,
            server: builder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "chsk",
                                 availableConnectionsDelegate: ConnectionCap(limit: configuration.limits.maxConnections ?? ConnectionCap.defaultLimit(),
                                                                             server: server)),
            services: [ChannelSocketShutdownService(server: engine, timeout: configuration.limits.shutdownTimeout)]
                + (server.metrics.isEnabled ? [EventLoopStallProbe(metrics: server.metrics)] : []),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// Measures event-loop stalls for `ServerMetrics.eventLoopStall`: on every loop of the
/// group Hummingbird serves on, a task due every 100 ms records how late it ran.
struct EventLoopStallProbe: Service {
    let metrics: ServerMetrics
    var group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    static let interval = TimeAmount.milliseconds(100)

    func run() async throws {
        let stopped = StopFlag()
        for loop in group.makeIterator() { Self.probe(loop, metrics: metrics, stopped: stopped) }
        try? await gracefulShutdown()
        stopped.value.store(true, ordering: .relaxed)
    }

    final class StopFlag: Sendable { let value = Atomic(false) }

    static func probe(_ loop: any EventLoop, metrics: ServerMetrics, stopped: StopFlag) {
        let due = NIODeadline.now() + interval
        loop.scheduleTask(deadline: due) {
            let late = NIODeadline.now() - due
            metrics.eventLoopStall.recordNanoseconds(max(0, late.nanoseconds))
            if !stopped.value.load(ordering: .relaxed) { probe(loop, metrics: metrics, stopped: stopped) }
        }
    }
}
