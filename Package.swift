// swift-tools-version:6.1
import PackageDescription

/// Upcoming-feature flags every target of chsk is built with (Hummingbird's style anchors).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "chsk",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EDN", targets: ["EDN"]),
        .library(name: "Transit", targets: ["Transit"]),
        .library(name: "ChannelSocket", targets: ["ChannelSocket"]),
        .library(name: "ChannelSocketTesting", targets: ["ChannelSocketTesting"]),
        .library(name: "ChannelSocketNIO", targets: ["ChannelSocketNIO"]),
        .library(name: "ChannelSocketHummingbird", targets: ["ChannelSocketHummingbird"]),
        .library(name: "ChannelSocketClientNIO", targets: ["ChannelSocketClientNIO"]),
        .library(name: "ChannelSocketRedis", targets: ["ChannelSocketRedis"]),
        .executable(name: "chsk", targets: ["chsk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // traits: [] -> no ConfigurationSupport/FullFoundation; avoids SwiftPM's random Hummingbird rebuilds
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // `swift package generate-documentation` (the DocC catalogs; README "Documentation")
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "EDN", swiftSettings: strictSettings),
        .target(name: "Transit", dependencies: ["EDN"], swiftSettings: strictSettings),
        .target(
            name: "ChannelSocket",
            dependencies: ["EDN", "Transit", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ChannelSocketNIO",
            dependencies: [
                "ChannelSocket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings),
        .target(
            name: "ChannelSocketHummingbird",
            dependencies: [
                "ChannelSocketNIO",
                "ChannelSocket", "EDN",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ChannelSocketClientNIO",
            dependencies: [
                "ChannelSocket",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ChannelSocketRedis",
            dependencies: ["ChannelSocket", "EDN", "CHiredis", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .target(name: "ChannelSocketTesting", dependencies: ["ChannelSocket"], swiftSettings: strictSettings),
        .executableTarget(
            name: "chsk",
            dependencies: [
                "EDN", "Transit", "ChannelSocket", "ChannelSocketHummingbird", "ChannelSocketNIO", "ChannelSocketClientNIO", "ChannelSocketRedis", "CReadline",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "EDNTests", dependencies: ["EDN", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "TransitTests", dependencies: ["Transit", "EDN", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "ChannelSocketTests", dependencies: ["ChannelSocket", "ChannelSocketTesting", "EDN", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strictSettings),
        .testTarget(name: "CLITests", dependencies: ["chsk", "TestSupport"], swiftSettings: strictSettings),
        // The DocC articles' Swift blocks as compiled code (Examples/snippets, issue 15).
        .testTarget(name: "DocSnippetTests",
                    dependencies: ["TestSupport", "EDN", "Transit", "ChannelSocket", "ChannelSocketClientNIO", "ChannelSocketHummingbird",
                                   "ChannelSocketRedis", "ChannelSocketTesting", .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                   .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                                   .product(name: "Logging", package: "swift-log")],
                    path: "Examples/snippets", swiftSettings: strictSettings),
        .testTarget(name: "IntegrationTests", dependencies: ["chsk", "TestSupport", "ChannelSocket", "ChannelSocketClientNIO", "ChannelSocketHummingbird", "ChannelSocketNIO", "ChannelSocketRedis", "ChannelSocketTesting", "EDN", "Transit", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "UnixSignals", package: "swift-service-lifecycle"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")], exclude: ["socket_replay.py", "requirements.txt"], swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
