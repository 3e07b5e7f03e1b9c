// swift-tools-version:6.1
import PackageDescription

/// The pure-math module is compiled with optimisation even in debug builds: fits run thousands of
/// L-BFGS iterations in the test suite, and unoptimised Swift array code is ~30x slower.
let optimisedMath: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "MixLab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mixlab", targets: ["mixlab"]),
        .library(name: "MixLabCore", targets: ["MixLabCore"]),
        .library(name: "MixingLaws", targets: ["MixingLaws"]),
        .library(name: "MixLabAnalysis", targets: ["MixLabAnalysis"]),
        .library(name: "MixLabStore", targets: ["MixLabStore"]),
        .library(name: "MixLabSweeps", targets: ["MixLabSweeps"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "MixLabCore"),
        .target(name: "MixingLaws", swiftSettings: optimisedMath),
        .target(name: "MixLabAnalysis", dependencies: ["MixLabCore", "MixingLaws"]),
        .target(
            name: "MixLabStore",
            dependencies: [
                "MixLabCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
        .target(
            name: "MixLabSweeps",
            dependencies: [
                "MixLabCore", "MixingLaws", "MixLabAnalysis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "MixLabTestSupport", dependencies: ["MixLabStore"], path: "Tests/MixLabTestSupport"),
        .executableTarget(
            name: "mixlab",
            dependencies: [
                "MixLabCore", "MixingLaws", "MixLabAnalysis", "MixLabStore", "MixLabSweeps",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MixLabCoreTests", dependencies: ["MixLabCore"]),
        .testTarget(name: "MixingLawsTests", dependencies: ["MixingLaws"], resources: [.copy("Fixtures")],
                    swiftSettings: optimisedMath),
        .testTarget(name: "MixLabStoreTests", dependencies: ["MixLabStore", "MixLabCore", "MixLabAnalysis", "MixLabTestSupport"]),
        .testTarget(name: "MixLabSweepsTests", dependencies: ["MixLabSweeps", "MixLabCore", "MixingLaws", "mixlab"]),
        .testTarget(name: "MixLabAnalysisTests", dependencies: ["MixLabAnalysis", "MixLabCore", "MixingLaws", "mixlab"]),
    ],
    swiftLanguageModes: [.v6]
)
