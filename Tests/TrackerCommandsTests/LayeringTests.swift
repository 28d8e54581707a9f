import Foundation
import Testing

/// The layers of Package.swift, checked on the sources themselves: neither front end talks to SQLite
/// (they reach the database through TrackerStore's methods and TrackerApp), and TrackerCommands does not
/// depend on TrackerWeb, so no CLI process but the one offering `ui` links the web server.
@Suite struct LayeringTests {
    /// The package's root: three levels up from this file (Tests/TrackerCommandsTests/LayeringTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func swiftFiles(in module: String) throws -> [URL] {
        let directory = root.appendingPathComponent("Sources/\(module)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".swift") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// `import SQLite`, `import CSQLite`, `@testable import SQLite`, `import struct SQLite.X`, ... on a line
    /// of their own (comments that mention the module do not count).
    static func importsSQLite(_ line: Substring) -> Bool {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let index = words.firstIndex(of: "import"), words[..<index].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "internal" || $0 == "package" || $0 == "private" || $0 == "fileprivate" })
        else { return false }
        var module = words.dropFirst(index + 1).first { !["struct", "class", "enum", "func", "protocol", "typealias", "var", "let"].contains($0) } ?? ""
        if let dot = module.firstIndex(of: ".") { module = module[..<dot] }
        return module == "SQLite" || module == "CSQLite"
    }

    /// The two front ends, and TrackerApp, which orchestrates over TrackerStore's methods.
    @Test(arguments: ["TrackerCommands", "TrackerWeb", "TrackerApp"])
    func noLayerAboveTheStoreImportsSQLite(_ module: String) throws {
        let files = try Self.swiftFiles(in: module)
        #expect(!files.isEmpty, "Sources/\(module) has no Swift files: is the root right? \(Self.root.path)")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.importsSQLite(line) {
                Issue.record("Sources/\(module)/\(file.lastPathComponent):\(number + 1) imports SQLite: \(line)")
            }
        }
    }

    @Test func theCheckRecognisesEveryFormOfTheImport() {
        for line in ["import SQLite", "  import SQLite", "@testable import SQLite", "import struct SQLite.Statement",
                     "@_implementationOnly import CSQLite", "public import SQLite"] {
            #expect(Self.importsSQLite(line[...]), "\(line)")
        }
        for line in ["import SQLiteKit", "// import SQLite", "import TrackerStore", "let x = \"import SQLite\""] {
            #expect(!Self.importsSQLite(line[...]), "\(line)")
        }
    }

    /// The dependency list of Package.swift's `.target(name: "NAME", dependencies: [...])`: from its
    /// `dependencies: [` to the first `]` (entries are names and `.product(...)`, which hold no brackets).
    static func target(_ name: String, in manifest: String) -> String? {
        guard let start = manifest.range(of: "name: \"\(name)\""),
              let list = manifest[start.upperBound...].range(of: "dependencies: ["),
              let end = manifest[list.upperBound...].firstIndex(of: "]")
        else { return nil }
        // The list must belong to this target: no other target's name in between.
        let between = manifest[start.upperBound..<list.lowerBound]
        guard !between.contains("name:") else { return nil }
        return String(manifest[list.upperBound..<end])
    }

    @Test func trackerCommandsDoesNotDependOnTrackerWeb() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let commands = try #require(Self.target("TrackerCommands", in: manifest))
        #expect(commands.contains("\"TrackerStore\""), "the TrackerCommands entry was not found whole: \(commands)")
        #expect(!commands.contains("TrackerWeb"), "TrackerCommands lists TrackerWeb: \(commands)")
        let web = try #require(Self.target("TrackerWeb", in: manifest))
        #expect(!web.contains("\"SQLite\""), "TrackerWeb lists SQLite: \(web)")
        #expect(!commands.contains("\"SQLite\""), "TrackerCommands lists SQLite: \(commands)")
        let app = try #require(Self.target("TrackerApp", in: manifest))
        #expect(!app.contains("\"SQLite\""), "TrackerApp lists SQLite: \(app)")
    }

}
