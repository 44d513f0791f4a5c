// swift-tools-version:6.1
import PackageDescription

/// A separate package so that the benchmark tool never enters the main build or its tests:
/// `swift build -c release --package-path Benchmarks` builds it into Benchmarks/.build.
/// The upcoming-feature flags every tool here is built with (as the main package's targets).
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "chsk-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "chsk", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "edn-bench",
            dependencies: [.product(name: "EDN", package: "chsk")],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "transit-bench",
            dependencies: [
                .product(name: "Transit", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "typed-bench",
            dependencies: [
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "ChannelSocketTesting", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
                .product(name: "Transit", package: "chsk"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "engine-bench",
            dependencies: [
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
                .product(name: "Transit", package: "chsk"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "nio-ws-echo",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "hb-ws-echo",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            swiftSettings: settings
        ),
    ],
    swiftLanguageModes: [.v6]
)
