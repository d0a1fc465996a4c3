// swift-tools-version:6.1
import PackageDescription

// The echo canceller's C kernels are always built optimised: they dominate the media loop
// and the G.168 test suite, which at -O0 would run an order of magnitude slower.
let echoKernelSettings: [CSetting] = [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno"])]

// Trunkline: telephony-board driver and media gateway. Layering and the import rules
// between these targets are described in docs/architecture.md.
let package = Package(
    name: "Trunkline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trunkd", targets: ["trunkd"]),
        .executable(name: "trunkctl", targets: ["trunkctl"]),
        .executable(name: "trunksim", targets: ["trunksim"]),
        .executable(name: "trunkrec", targets: ["trunkrec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C at the edge: the DAHDI ABI compiled against the real <dahdi/user.h>, and system libraries.
        .target(name: "CDAHDI", path: "CModules/CDAHDI"),
        .systemLibrary(name: "CSpanDSP", path: "CModules/CSpanDSP", providers: [.apt(["libspandsp-dev"])]),
        .systemLibrary(name: "CAlsa", path: "CModules/CAlsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CPcap", path: "CModules/CPcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CG168", path: "CModules/CG168"),
        // libpri (GPL) as a real far end, for interop tests and the PRI benchmark only: no
        // product links it (a packaging test checks the binaries with ldd).
        .target(name: "CLibPRIPeer", path: "CModules/CLibPRIPeer", linkerSettings: [.linkedLibrary("pri")]),
        // Counts heap allocations; it replaces malloc process-wide, so tests and benchmarks only.
        .target(name: "CMallocCounter", path: "CModules/CMallocCounter"),

        .target(name: "TrunkCore"),
        .target(
            name: "TrunkHardware",
            dependencies: ["TrunkCore", "CDAHDI", "CAlsa", "CG168"]
        ),
        .target(name: "CEchoKernel", path: "CModules/CEchoKernel", cSettings: echoKernelSettings),
        // The media loop thread's CPU pinning (glibc declares it only under _GNU_SOURCE).
        .target(name: "CRealTime", path: "CModules/CRealTime"),
        // The DTMF receiver's per-sample correlations, optimised in debug builds too.
        .target(name: "CDTMFKernel", path: "CModules/CDTMFKernel", cSettings: echoKernelSettings),
        .target(name: "TrunkMedia", dependencies: ["TrunkCore", "TrunkHardware", "CEchoKernel", "CRealTime", "CSpanDSP", "CDTMFKernel"]),
        // Analog line signalling (FXS/FXO supervision, caller ID timing, call progress) as pure
        // state machines, and the driver that binds them to a channel device.
        .target(name: "TrunkAnalog", dependencies: ["TrunkCore", "TrunkMedia", "TrunkHardware"]),
        .target(name: "TrunkISDN"),
        .target(name: "TrunkTrace", dependencies: ["TrunkCore", "CPcap"]),
        // The CTI socket's protocol layer: framing, sessions, permissions, verbs, events. The
        // gateway implements CTIBackend and plugs it in; nothing here knows about calls.
        .target(
            name: "TrunkCTI",
            dependencies: [
                "TrunkCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // TLS for the CTI socket's listeners (BoringSSL through swift-nio-ssl), apart from the
        // protocol layer so TrunkCTI, its tests and trunkbench-cti build without BoringSSL.
        .target(
            name: "TrunkCTITLS",
            dependencies: [
                "TrunkCTI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "TrunkRecording",
            dependencies: [
                "TrunkCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TrunkGateway",
            dependencies: [
                "TrunkCore", "TrunkHardware", "TrunkISDN", "TrunkTrace", "TrunkMedia", "TrunkAnalog", "TrunkCTI", "TrunkCTITLS", "TrunkRecording",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "trunkd",
            dependencies: [
                "TrunkGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "trunkctl",
            dependencies: [
                "TrunkGateway", "TrunkTrace", "TrunkMedia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "trunksim",
            dependencies: [
                "TrunkGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "trunkrec",
            dependencies: [
                "TrunkGateway", "TrunkRecording",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // G.168 test scenarios (signals, echo paths, ERLE), shared by the tests and the benchmark.
        .target(name: "G168Harness", dependencies: ["TrunkCore", "TrunkMedia", "CG168", "CEchoKernel"]),
        .executableTarget(
            name: "trunkbench-echo",
            dependencies: ["TrunkMedia", "G168Harness", "CEchoKernel"],
            path: "Benchmarks/trunkbench-echo",
            linkerSettings: [.linkedLibrary("dl")]),
        .executableTarget(
            name: "trunkbench-media",
            dependencies: ["TrunkMedia", "TrunkHardware", "TrunkCore", "G168Harness", "CMallocCounter"],
            path: "Benchmarks/trunkbench-media"),
        .executableTarget(
            name: "trunkbench-callerid",
            dependencies: ["TrunkCore", "TrunkMedia", "G168Harness", "CSpanDSP"],
            path: "Benchmarks/trunkbench-callerid"),
        .executableTarget(
            name: "trunkbench-dsp",
            dependencies: ["TrunkCore", "TrunkMedia", "G168Harness"],
            path: "Benchmarks/trunkbench-dsp"),
        .executableTarget(
            name: "trunkbench-pri",
            dependencies: ["TrunkISDN", "CLibPRIPeer", "CMallocCounter"],
            path: "Benchmarks/trunkbench-pri"),
        .executableTarget(
            name: "trunkbench-cti",
            dependencies: [
                "TrunkCTI",
                "CRealTime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/trunkbench-cti"),

        .testTarget(name: "TrunkCoreTests", dependencies: ["TrunkCore"]),
        .testTarget(
            name: "TrunkHardwareTests",
            dependencies: ["TrunkHardware", "CDAHDI", "CSpanDSP", "CAlsa", "CPcap"]
        ),
        .testTarget(name: "TrunkMediaTests", dependencies: ["TrunkCore", "TrunkHardware", "TrunkMedia", "G168Harness", "CMallocCounter", "CEchoKernel", "CSpanDSP"]),
        .testTarget(name: "TrunkAnalogTests", dependencies: ["TrunkCore", "TrunkAnalog", "TrunkMedia", "TrunkHardware", "G168Harness", "CMallocCounter", "CSpanDSP"]),
        .testTarget(name: "TrunkISDNTests", dependencies: ["TrunkISDN", "CLibPRIPeer", "CMallocCounter"]),
        .testTarget(name: "TrunkTraceTests", dependencies: ["TrunkTrace", "TrunkISDN"]),
        .testTarget(name: "TrunkGatewayTests", dependencies: ["TrunkCore", "TrunkGateway", "TrunkHardware", "TrunkISDN", "TrunkTrace", "TrunkMedia", "TrunkCTI", "TrunkRecording", "CDAHDI",
                                                              .product(name: "Logging", package: "swift-log"),
                                                              .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .testTarget(name: "CommandLineTests", dependencies: ["TrunkGateway", "TrunkMedia", "G168Harness", "TrunkRecording"]),
        .testTarget(
            name: "TrunkCTITests",
            dependencies: [
                "TrunkCTI", "TrunkCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "trunkbench-rec",
            dependencies: ["TrunkCore", "TrunkRecording", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/trunkbench-rec"),
        // A writer the crash test kills with SIGKILL mid-recording (test-only, not a product).
        .executableTarget(
            name: "trunkrec-crash-writer",
            dependencies: ["TrunkCore", "TrunkRecording"],
            path: "Tests/Fixtures/trunkrec-crash-writer"),
        .testTarget(name: "TrunkRecordingTests", dependencies: ["TrunkCore", "TrunkRecording"]),
        .testTarget(
            name: "TrunkCTITLSTests",
            dependencies: [
                "TrunkCTI", "TrunkCTITLS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
