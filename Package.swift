// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mam-quantify",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mam-quantify", targets: ["mam-quantify"]),
        .library(name: "MAMImageIO", targets: ["MAMImageIO"]),
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
        // libdeflate, inflating a whole .nii.gz at once (the voxels; the header stays with zlib).
        .systemLibrary(
            name: "_CDeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        // libpng, for the QC pages' slice images (its simplified write API: no longjmp).
        .systemLibrary(
            name: "_CPNG",
            providers: [.apt(["libpng-dev"])]
        ),
        // DCMTK (libdcmtk-dev), for DICOM-SEG and RTSTRUCT: a C++ target whose header is plain C
        // (load a file, element values as text, sequence items, decompressed pixel data).
        .target(
            name: "_CDICOM",
            linkerSettings: [
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmjpeg"), .linkedLibrary("dcmdata"),
                .linkedLibrary("oflog"), .linkedLibrary("ofstd"),
            ]
        ),
        // OpenSSL's libcrypto, for the SHA-256 digests of inputs and protocols in reports.
        .systemLibrary(
            name: "_COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),

        // MARK: The library, in layers: each module imports only modules listed above it
        // (scripts/check-layers keeps it so). Stages are numbered as in README: the order in
        // which a case runs them.

        // Foundations: volumes, world geometry, affines, resampling, parallel helpers.
        .target(name: "MAMCore"),
        // Stage 1, reading: a format-neutral label image and its readers (NIfTI, NRRD, MetaImage,
        // DICOM-SEG, RTSTRUCT), the NIfTI writer, ITK .tfm transform files.
        .target(name: "MAMImageIO", dependencies: ["MAMCore", "_CNIfTI", "_CDeflate", "_CDICOM"]),
        // The only GSL client: minimisers, Cholesky solves and distribution quantiles.
        .target(name: "MAMNumerics", dependencies: ["_CGSL"]),
        // Percentiles, intraclass correlation, Bland-Altman, Cohen's kappa; survival and outcome
        // statistics (Kaplan-Meier, log-rank, Aalen-Johansen, Cox, logistic regression, ROC).
        .target(name: "MAMStatistics", dependencies: ["MAMNumerics"]),
        // Stage 3, geometry of masks: exact distance transforms, k-d trees, sub-voxel surfaces,
        // the signed distance to them, connected components.
        .target(name: "MAMSurface", dependencies: ["MAMCore"]),
        // Stage 2, registration: estimating the pre-to-post transform (rigid ICP of the livers,
        // field-of-view cuts left out), its verdict, and the fit refined around each tumour.
        .target(name: "MAMRegistration", dependencies: ["MAMCore", "MAMSurface", "MAMNumerics", "MAMStatistics"]),
        // Stage 4, margins: a case prepared once (surfaces, distance fields, shells), measured
        // under any transform (one per tumour if need be); margin maps; the MAM's uncertainty.
        .target(name: "MAMMargin", dependencies: ["MAMCore", "MAMSurface", "MAMStatistics"]),
        // Stage 5, observer agreement between two segmentations (overlap, surface distances).
        .target(name: "MAMAgreement", dependencies: ["MAMCore", "MAMSurface", "MAMStatistics"]),
        // One case end to end: analysis protocols, the stages in order, the JSON report; one
        // agreement pair.
        .target(
            name: "MAMCase",
            dependencies: [
                "MAMCore", "MAMImageIO", "MAMRegistration", "MAMMargin", "MAMAgreement", "_COpenSSL",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Pictures and pages for a visual check: slices of a case's masks in world space (PNG),
        // plots (SVG), the case's qc.html and the cohort's index.html.
        .target(name: "MAMQC", dependencies: ["MAMCore", "MAMImageIO", "MAMSurface", "MAMCase", "_CPNG"]),
        // Stage 6, many cases: cohort discovery, the batch runner, the cohort tables and page,
        // the agreement study.
        .target(name: "MAMCohort", dependencies: ["MAMImageIO", "MAMStatistics", "MAMCase", "MAMQC"]),
        // Outcomes: the follow-up joined to a cohort's results, the trial's analysis of local
        // tumour progression (rates, survival, regression, ROC), outcomes.json, tables and plots.
        .target(name: "MAMOutcomes", dependencies: ["MAMCore", "MAMImageIO", "MAMStatistics", "MAMCase", "MAMQC", "MAMCohort"]),

        // MARK: Phantoms with known answers (tests, benchmarks, SampleCases/)

        .target(name: "MAMPhantoms", dependencies: ["MAMCore"]),

        // MARK: Command-line tools

        // Arguments to requests, exit codes and words, progress; nothing else.
        .executableTarget(
            name: "mam-quantify",
            dependencies: [
                "MAMImageIO", "MAMCase", "MAMQC", "MAMCohort", "MAMOutcomes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "mam-phantoms",
            dependencies: [
                "MAMImageIO", "MAMPhantoms",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "mam-bench",
            dependencies: [
                "MAMCore", "MAMImageIO", "MAMSurface", "MAMMargin", "MAMPhantoms", "MAMRegistration", "MAMAgreement", "MAMCase", "_CNIfTI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests, folders mirroring Sources/

        // Helpers shared by the test targets: seeded data, painted phantoms, temporary folders,
        // reference tools.
        .target(name: "MAMTestSupport", dependencies: ["MAMCore", "MAMImageIO", "MAMPhantoms"], path: "Tests/MAMTestSupport"),
        .testTarget(name: "MAMCoreTests", dependencies: ["MAMCore", "MAMTestSupport"]),
        .testTarget(name: "MAMImageIOTests", dependencies: ["MAMImageIO", "MAMCore", "MAMSurface", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMNumericsTests", dependencies: ["MAMNumerics", "MAMCore"]),
        .testTarget(name: "MAMStatisticsTests", dependencies: ["MAMStatistics", "MAMCore", "MAMTestSupport"]),
        .testTarget(name: "MAMSurfaceTests", dependencies: ["MAMSurface", "MAMCore", "MAMImageIO", "MAMTestSupport"]),
        .testTarget(name: "MAMRegistrationTests", dependencies: ["MAMRegistration", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMMarginTests", dependencies: ["MAMMargin", "MAMSurface", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMAgreementTests", dependencies: ["MAMAgreement", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMCaseTests", dependencies: ["MAMCase", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMQCTests", dependencies: ["MAMQC", "MAMCase", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        .testTarget(name: "MAMCohortTests", dependencies: ["MAMCohort", "MAMCase", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"]),
        // End to end: runs the built mam-quantify executable on sample cases and phantoms.
        .testTarget(
            name: "MAMQuantifyEndToEndTests",
            dependencies: ["mam-quantify", "MAMCore", "MAMImageIO", "MAMPhantoms", "MAMTestSupport"],
            exclude: ["Snapshots"]  // read from the source tree by path, not a bundled resource
        ),
    ]
)

// Fuzz targets (scripts/fuzz): libFuzzer entry points for the NIfTI reader and the protocol
// parser. They link libFuzzer's driver, so they exist only in the build that scripts/fuzz
// makes with MAMQ_FUZZ=1 (AddressSanitizer, coverage instrumentation, libFuzzer's runtime).
if Context.environment["MAMQ_FUZZ"] == "1" {
    package.products.append(.library(name: "MAMCase", targets: ["MAMCase"]))
    package.targets += [
        .target(name: "FuzzDriver", path: "Tests/Fuzz/FuzzDriver"),
        .executableTarget(name: "FuzzNIfTIReader", dependencies: ["MAMImageIO", "FuzzDriver"], path: "Tests/Fuzz/FuzzNIfTIReader"),
        .executableTarget(name: "FuzzProtocolParser", dependencies: ["MAMCase", "FuzzDriver"], path: "Tests/Fuzz/FuzzProtocolParser"),
    ]
}

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
