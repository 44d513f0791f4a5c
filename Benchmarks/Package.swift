// swift-tools-version:6.1
import PackageDescription

/// A separate package so that the benchmark tool never enters the main build or its tests:
/// `swift build -c release --package-path Benchmarks` builds it into Benchmarks/.build.
let package = Package(
    name: "chsk-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "chsk", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "edn-bench",
            dependencies: [.product(name: "EDN", package: "chsk")],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
        .executableTarget(
            name: "transit-bench",
            dependencies: [
                .product(name: "Transit", package: "chsk"),
                .product(name: "EDN", package: "chsk"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
