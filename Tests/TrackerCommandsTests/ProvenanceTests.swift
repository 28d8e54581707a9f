import Foundation
import Testing
import TestSupport

/// A run records how it came to be (`run_provenance`), and `show` prints it: from a git work tree, from
/// outside one, and from a sweep.
@Suite(.serialized) struct ProvenanceTests {
    /// Runs a program to completion and returns its trimmed stdout; fails the test on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(executable) \(arguments)")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func git(_ arguments: [String], in directory: String) throws -> String {
        try run("/usr/bin/git", ["-c", "user.name=Tracker Test", "-c", "user.email=test@example.com",
                                 "-c", "init.defaultBranch=main"] + arguments, in: directory)
    }

    /// The newest run's `provenance` object from `show --format json`.
    static func newestProvenance(_ db: String) throws -> [String: Any] {
        let list = try CLI.run(["list", "--db", db, "--format", "csv", "--oldest-first"])
        let runID = try #require(list.stdout.split(separator: "\n").last?.split(separator: ",").first.map(String.init))
        let show = try CLI.run(["show", "--db", db, runID, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let object = try #require(try CLI.json(show) as? [String: Any])
        return try #require(object["provenance"] as? [String: Any])
    }

    static let quickRun = ["run", "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]

    @Test func outsideAGitWorkTreeTheGitFieldsAreNull() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("p.db")
        let result = try CLI.run(Self.quickRun + ["--db", db, "--label", "it's a test"], in: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let provenance = try Self.newestProvenance(db)
        #expect(provenance["git_commit"] is NSNull)
        #expect(provenance["git_dirty"] is NSNull)
        #expect(provenance["sweep_name"] is NSNull && provenance["sweep_sha256"] is NSNull)
        let commandLine = try #require(provenance["command_line"] as? String)
        #expect(commandLine.hasSuffix("run --algo ql --n 4 --iterations 50 --quiet --db \(db) --label 'it'\\''s a test'"))
        let directory = try #require(provenance["working_directory"] as? String)
        #expect(URL(fileURLWithPath: directory).resolvingSymlinksInPath() == dir.url.resolvingSymlinksInPath())
        for key in ["host", "user", "os", "tracker_version", "sqlite_version"] {
            #expect(!((provenance[key] as? String) ?? "").isEmpty, "\(key)")
        }
        #expect((provenance["sqlite_version"] as? String)?.hasPrefix("3.") == true)

        // The table form has the section too.
        let list = try CLI.run(["list", "--db", db, "--format", "csv", "--oldest-first"])
        let runID = String(list.stdout.split(separator: "\n")[1].split(separator: ",")[0])
        let table = try CLI.run(["show", "--db", db, runID])
        #expect(table.stdout.contains("Provenance\ncommand_line"))
    }

    @Test func inAGitWorkTreeTheCommitAndDirtinessAreRecorded() throws {
        let dir = try TemporaryDirectory()
        let repository = dir.path("repo")
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        _ = try Self.git(["init", "-q"], in: repository)
        try "experiment notes\n".write(toFile: repository + "/notes.txt", atomically: true, encoding: .utf8)
        _ = try Self.git(["add", "notes.txt"], in: repository)
        _ = try Self.git(["commit", "-q", "-m", "first"], in: repository)
        let head = try Self.git(["rev-parse", "HEAD"], in: repository)
        // The database lives outside the work tree, so writing it does not make the tree dirty.
        let db = dir.path("p.db")

        let clean = try CLI.run(Self.quickRun + ["--db", db], in: URL(fileURLWithPath: repository))
        #expect(clean.status == 0, "\(clean.stderr)")
        let first = try Self.newestProvenance(db)
        #expect(first["git_commit"] as? String == head)
        #expect(first["git_dirty"] as? Bool == false)

        try "changed\n".write(toFile: repository + "/notes.txt", atomically: true, encoding: .utf8)
        let dirty = try CLI.run(Self.quickRun + ["--db", db, "--seed", "2"], in: URL(fileURLWithPath: repository))
        #expect(dirty.status == 0, "\(dirty.stderr)")
        let second = try Self.newestProvenance(db)
        #expect(second["git_commit"] as? String == head)
        #expect(second["git_dirty"] as? Bool == true)
    }

    /// git is asked while the database opens, and only for a run that passed validation: a refused run
    /// starts no git (in a large repository that was most of the refusal's time).
    @Test func aRefusedRunAsksGitNothing() throws {
        let dir = try TemporaryDirectory()
        let bin = dir.path("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let marker = dir.path("git-was-asked")
        // A git that leaves a mark and then answers as outside a repository.
        try "#!/bin/sh\ntouch '\(marker)'\nexit 128\n".write(toFile: bin + "/git", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/git")
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let db = dir.path("p.db")

        let refused = try CLI.run(["run", "--algo", "dteql", "--phi", "0", "--n", "4", "--db", db, "--quiet"],
                                  in: dir.url, environment: ["PATH": path])
        #expect(refused.status == 1, "\(refused.stderr)")
        // The run's git thread would have marked by now: a valid run waits for git before it records.
        let accepted = try CLI.run(Self.quickRun + ["--db", dir.path("q.db")], in: dir.url, environment: ["PATH": path])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker), "the fake git was not the one asked")
        #expect(!FileManager.default.fileExists(atPath: db))
        try FileManager.default.removeItem(atPath: marker)
        let again = try CLI.run(["run", "--algo", "dteql", "--phi", "0", "--n", "4", "--db", db, "--quiet"],
                                in: dir.url, environment: ["PATH": path])
        #expect(again.status == 1)
        // git would outlive the refused process: give it time to leave its mark.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!FileManager.default.fileExists(atPath: marker), "a refused run started git")
    }

    @Test func aSweepRecordsItsSpecNameAndHash() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("grid.json")
        try #"{ "n": [4], "frames": 1, "iterations": 50, "configurations": [ {"algorithm": "ql"} ] }"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let db = dir.path("s.db")
        let sweep = try CLI.run(["sweep", spec, "--db", db, "--quiet"])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let provenance = try Self.newestProvenance(db)
        #expect(provenance["sweep_name"] as? String == spec)
        let digest = try Self.run("/usr/bin/sha256sum", [spec], in: dir.path(""))
        #expect(provenance["sweep_sha256"] as? String == String(digest.prefix(64)))
    }
}
