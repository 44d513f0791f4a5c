// swift-tools-version:6.1
// libFuzzer targets for chsk's parsers (issue 13). Built and run by `Fuzz/run`; see README.md.
//
// Each executable's entry point is `<Module>_main` (SwiftPM renames an executable's `main`
// so that it can be linked into tests); it hands libFuzzer's driver the target's
// `LLVMFuzzerTestOneInput` (FuzzSupport.runFuzzer). Build with
// `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library`.
import PackageDescription

let package = Package(
    name: "chsk-fuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-edn", targets: ["FuzzEDN"]),
        .executable(name: "fuzz-transit-json", targets: ["FuzzTransitJSON"]),
        .executable(name: "fuzz-transit-msgpack", targets: ["FuzzTransitMsgpack"]),
        .executable(name: "fuzz-framing", targets: ["FuzzFraming"]),
        .executable(name: "fuzz-ws-frames", targets: ["FuzzWSFrames"]),
        .executable(name: "fuzz-ajax-request", targets: ["FuzzAjaxRequest"]),
    ],
    dependencies: [
        .package(name: "chsk", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzEDN", dependencies: [
            "FuzzSupport", .product(name: "EDN", package: "chsk"),
        ]),
        .target(name: "FuzzTransitRoundTrip", dependencies: [
            "FuzzSupport", .product(name: "EDN", package: "chsk"), .product(name: "Transit", package: "chsk"),
        ]),
        .executableTarget(name: "FuzzTransitJSON", dependencies: ["FuzzSupport", "FuzzTransitRoundTrip", .product(name: "Transit", package: "chsk")]),
        .executableTarget(name: "FuzzTransitMsgpack", dependencies: ["FuzzSupport", "FuzzTransitRoundTrip", .product(name: "Transit", package: "chsk")]),
        .executableTarget(name: "FuzzFraming", dependencies: [
            "FuzzSupport", .product(name: "EDN", package: "chsk"), .product(name: "Transit", package: "chsk"),
            .product(name: "ChannelSocket", package: "chsk"),
        ]),
        .executableTarget(name: "FuzzWSFrames", dependencies: [
            "FuzzSupport", .product(name: "ChannelSocketNIO", package: "chsk"),
        ]),
        .executableTarget(name: "FuzzAjaxRequest", dependencies: [
            "FuzzSupport", .product(name: "EDN", package: "chsk"), .product(name: "ChannelSocket", package: "chsk"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
