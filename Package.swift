// swift-tools-version: 6.0
import PackageDescription

// Layers only look down:
//   CSQLite -> SQLite -> Scheduling -> Learning -> TrackerStore (also on CSHA256) -> TrackerApp -> TrackerReports
//     -> TrackerCommands | TrackerWeb (side by side, neither imports the other) -> tracker (composes the two, offers `ui`)
// TrackerStore is persistence (SQL, row decoding, opening, leases); TrackerApp is the application layer over it
// (recording pipeline, sweeps, comparison, statistics, shared views) and uses only its public API.
// Scheduling and Learning never import SQLite; only TrackerCommands and the tracker executable import
// ArgumentParser, and neither front end (TrackerCommands, TrackerWeb) imports SQLite.
// TrackerReports holds the tables and charts that every front end (the CLI, the web dashboard) shows;
// TrackerWeb (`tracker ui`) only maps HTTP requests to them and renders HTML. docs/architecture.md has more.
let package = Package(
    name: "tracker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tracker", targets: ["tracker"]),
        .executable(name: "tracker-bench", targets: ["TrackerBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // The system libsqlite3, reached through a module map (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        // A thin, strict wrapper: connection, statements, errors, transactions, migrator.
        .target(name: "SQLite", dependencies: ["CSQLite"]),

        // The offloading model: tasks, frames, evaluation, reference orders, exact optimum. Pure Swift.
        .target(name: "Scheduling"),
        // QL, DTEQL and DTAQL over the model. Pure Swift, no SQL.
        .target(name: "Learning", dependencies: ["Scheduling"]),

        // Reads migrations/*.sql and queries/*.sql at build time into one generated Swift file, so the
        // .sql files stay the only copy and the binary works from any directory.
        .executableTarget(name: "EmbedSQL", path: "Sources/EmbedSQL"),
        .plugin(name: "EmbedSQLPlugin", capability: .buildTool(), dependencies: ["EmbedSQL"]),

        // SHA-256 on the x86 SHA extensions, for checkpoint digests (the store falls back to Learning's
        // portable SHA256 elsewhere); docs/benchmarks.md has the measurements behind it.
        .target(name: "CSHA256"),

        // The experiment store: schema, runs, metrics, checkpoints, saved queries.
        .target(
            name: "TrackerStore",
            dependencies: ["SQLite", "CSHA256", "Scheduling", "Learning"],
            plugins: ["EmbedSQLPlugin"]
        ),
        // The application layer: recording sessions and their threads (writer, heartbeat, WAL checkpointer),
        // sweeps and their specs, shard publishing, comparison and statistics, shared views. Pure orchestration
        // over the store's public API (no SQLite: its helper threads use TrackerStore's SessionConnection);
        // both front ends stand on it.
        .target(name: "TrackerApp", dependencies: ["Scheduling", "Learning", "TrackerStore"]),
        // Tables, JSON values, the compare tables and the SVG charts, from plain values: no argument parsing,
        // so the CLI and the web dashboard render the same output.
        .target(name: "TrackerReports", dependencies: ["Scheduling", "Learning", "TrackerStore", "TrackerApp"]),
        // `tracker ui`: the read-only web dashboard (Hummingbird 2). Maps requests to the store and renders
        // HTML; knows nothing of argument parsing, and of SQLite only what TrackerStore's errors say.
        .target(
            name: "TrackerWeb",
            dependencies: [
                "Scheduling", "Learning", "TrackerStore", "TrackerApp", "TrackerReports",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Every subcommand but `ui`, one file each, in a library so tests can link them. Not on TrackerWeb:
        // linking this library does not link Hummingbird and SwiftNIO.
        .target(
            name: "TrackerCommands",
            dependencies: [
                "Scheduling", "Learning", "TrackerStore", "TrackerApp", "TrackerReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The executable composes the two front ends: TrackerCommands' commands and `ui` (its own
        // UICommand.swift, over TrackerWeb). The only product that links Hummingbird.
        .executableTarget(
            name: "tracker",
            dependencies: [
                "TrackerCommands", "TrackerStore", "TrackerWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // tracker-bench's ingest baseline: the same metric inserts as a plain C loop over libsqlite3.
        .target(name: "CIngestBaseline", dependencies: ["CSQLite"]),
        .executableTarget(
            name: "TrackerBench",
            dependencies: ["SQLite", "CSQLite", "CIngestBaseline", "Scheduling", "Learning", "TrackerStore", "TrackerApp"]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite", "CSQLite", "TestSupport"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning", "Scheduling"]),
        .testTarget(name: "TrackerStoreTests", dependencies: ["TrackerStore", "TrackerApp", "SQLite", "Learning", "Scheduling", "TestSupport"]),
        .testTarget(name: "TrackerReportsTests", dependencies: ["TrackerReports", "TrackerStore", "TrackerApp", "Learning", "TestSupport"]),
        // HummingbirdTesting drives the dashboard's application in process (DashboardRouteTests, RunViewSchemaTests).
        // It costs build time: it pulls AsyncHTTPClient and NIOSSL (BoringSSL, in C), which only this test
        // target links. Measured roughly: `swift build --target HummingbirdTesting` after the package was built
        // compiled about 630 more files (AsyncHTTPClient, NIOSSL with BoringSSL's C sources, NIOHTTP2, swift-crypto,
        // swift-certificates) in 566 s on the shared 2-core machine at a load average of 12 to 16, an upper bound;
        // `swift build` of the tracker alone does not build them.
        .testTarget(
            name: "TrackerCommandsTests",
            dependencies: [
                "TrackerCommands", "TrackerWeb", "SQLite", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
    ]
)
