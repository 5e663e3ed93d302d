// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mam-quantify",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mam-quantify", targets: ["mam-quantify"]),
        .library(name: "MAMImaging", targets: ["MAMImaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // MARK: C libraries, each behind a thin wrapper that promises no Swift API

        // libnifti2-dev ships no pkg-config file and its nifti2_io.h includes <znzlib.h>,
        // which Debian installs under /usr/include/nifti/: a C target's include/ folder holds a
        // forwarding header. Install with: apt-get install libnifti2-dev zlib1g-dev
        .target(
            name: "_CNIfTI",
            linkerSettings: [
                .linkedLibrary("nifti2"), .linkedLibrary("znz"), .linkedLibrary("z"), .linkedLibrary("m"),
            ]
        ),
        .systemLibrary(
            name: "_CGSL",
            providers: [.apt(["libgsl-dev"])]
        ),
        // OpenSSL's libcrypto, for the SHA-256 digests of inputs and protocols in reports.
        .systemLibrary(
            name: "_COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),

        // MARK: Pipeline stages, one module each

        // Stage 1: image model, world geometry, NIfTI reading and writing.
        .target(name: "MAMImaging", dependencies: ["_CNIfTI"]),
        // Stage 3: exact Euclidean distance transforms in millimetres.
        .target(name: "MAMDistance", dependencies: ["MAMImaging"]),
        // Stage 4: the margin engine (sub-voxel surfaces, margins, coverage, margin maps).
        .target(name: "MAMMargin", dependencies: ["MAMImaging", "MAMDistance"]),
        // Stage 2: rigid registration of the pre liver onto the post liver (ICP, GSL).
        .target(name: "MAMRegistration", dependencies: ["MAMImaging", "MAMMargin", "MAMOptimization"]),
        // Stage 5: observer agreement (overlap and surface distances).
        .target(name: "MAMAgreement", dependencies: ["MAMImaging", "MAMDistance", "_CGSL"]),
        // Numerical optimisation on GSL (used by registration).
        .target(name: "MAMOptimization", dependencies: ["_CGSL"]),
        // One case end to end (analysis protocols, the stages, the JSON report), one agreement pair.
        .target(
            name: "MAMPipeline",
            dependencies: [
                "MAMImaging", "MAMMargin", "MAMRegistration", "MAMAgreement", "_COpenSSL",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: Phantoms with known answers (tests, benchmarks, SampleCases/)

        .target(name: "MAMPhantoms", dependencies: ["MAMImaging"]),

        // MARK: Command-line tools

        .executableTarget(
            name: "mam-quantify",
            dependencies: [
                "MAMImaging", "MAMPipeline", "MAMAgreement",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "mam-phantoms",
            dependencies: [
                "MAMImaging", "MAMPhantoms",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "mam-bench",
            dependencies: [
                "MAMImaging", "MAMDistance", "MAMMargin", "MAMPhantoms", "MAMRegistration", "MAMAgreement", "_CNIfTI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests, folders mirroring Sources/

        // Helpers shared by the test targets: seeded data, temporary folders, reference tools.
        .target(name: "MAMTestSupport", dependencies: ["MAMImaging"], path: "Tests/MAMTestSupport"),
        .testTarget(name: "MAMImagingTests", dependencies: ["MAMImaging", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMOptimizationTests", dependencies: ["MAMOptimization"]),
        .testTarget(name: "MAMDistanceTests", dependencies: ["MAMDistance", "MAMImaging", "MAMTestSupport"]),
        .testTarget(name: "MAMMarginTests", dependencies: ["MAMMargin", "MAMImaging", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMRegistrationTests", dependencies: ["MAMRegistration", "MAMImaging", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMAgreementTests", dependencies: ["MAMAgreement", "MAMImaging", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMPipelineTests", dependencies: ["MAMPipeline", "MAMImaging", "MAMTestSupport"]),
        // End to end: runs the built mam-quantify executable on sample cases and phantoms.
        .testTarget(
            name: "MAMQuantifyEndToEndTests",
            dependencies: ["mam-quantify", "MAMImaging", "MAMPhantoms", "MAMRegistration", "MAMTestSupport"],
            exclude: ["Snapshots"]  // read from the source tree by path, not a bundled resource
        ),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
