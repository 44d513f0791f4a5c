// swift-tools-version:6.1
import PackageDescription

// The chat example: a separate package (so the root package's build does not compile it) that
// depends on chsk by path. Run: swift run --package-path Examples/chat chat-server --port 8090
let package = Package(
    name: "chat",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "chsk", path: "../.."),
        // the same pin and traits as the root package (one Hummingbird in the graph)
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    ],
    targets: [
        .target(
            name: "ChatServer",
            dependencies: [
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "ChannelSocketHummingbird", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(name: "chat-server", dependencies: ["ChatServer"]),
        .testTarget(
            name: "ChatServerTests",
            dependencies: [
                "ChatServer",
                .product(name: "ChannelSocket", package: "chsk"),
                .product(name: "ChannelSocketClientNIO", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
