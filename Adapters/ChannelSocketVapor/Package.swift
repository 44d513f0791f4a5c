// swift-tools-version:6.1
import PackageDescription

/// Upcoming-feature flags every target of chsk is built with (the same as the root package).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The Vapor 4 adapter of chsk, a package of its own so that the root package's build and CI
/// do not pay for Vapor (a clean debug build of Vapor takes minutes on 2 cores).
let package = Package(
    name: "chsk-vapor",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ChannelSocketVapor", targets: ["ChannelSocketVapor"]),
    ],
    dependencies: [
        .package(name: "chsk", path: "../.."),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "ChannelSocketVapor",
            dependencies: [
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "ChannelSocketNIO", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ChannelSocketVaporTests",
            dependencies: [
                "ChannelSocketVapor",
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "ChannelSocketClientNIO", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
                .product(name: "Transit", package: "chsk"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
