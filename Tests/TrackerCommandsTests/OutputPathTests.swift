import Foundation
import SQLite
import Testing
import TestSupport

/// Every file a command writes besides the database (`frame --out`, `plot --out`, the PNG beside the SVG,
/// `reproduce --report`) is refused, with nothing changed, on a database (any), a directory, a device, a
/// FIFO, a file of another kind and a missing folder; an earlier output of the same kind is replaced
/// through a temporary file and a rename.
@Suite(.serialized) struct OutputPathTests {
    /// A finished QL N=4 run, for `plot --n 4`.
    static func database(in dir: TemporaryDirectory) throws -> String {
        let db = dir.path("t.db")
        let result = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "100", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        return db
    }

    /// The commands that write a file at `path` (reading `db` where they need runs).
    static func writers(db: String, path: String) -> [[String]] {
        [
            ["frame", "--n", "4", "--out", path],
            ["plot", "--db", db, "--n", "4", "--out", path],
        ]
    }

    static func fileSHA(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// The names in a folder, to see that no temporary file was left behind.
    static func names(_ dir: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
    }

    static func expectRefused(_ result: CLI.Result, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("Error: ") && result.stderr.contains(message), "\(result.stderr)",
                sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func theDatabaseItselfAndAnyOtherDatabaseAreRefusedUntouched() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.database(in: dir)
        // Another SQLite file that is not --db's, and not a tracker database at all.
        let other = dir.path("other.sqlite")
        try Database(path: other).execute("CREATE TABLE mine (x); INSERT INTO mine VALUES (42)")
        for target in [db, other] {
            let before = Self.fileSHA(target)
            let listing = try Self.names(dir)
            for arguments in Self.writers(db: db, path: target) {
                Self.expectRefused(try CLI.run(arguments), "cannot write \(target): it is an SQLite database")
                #expect(Self.fileSHA(target) == before, "\(arguments): \(target) changed")
                #expect(try Self.names(dir) == listing, "\(arguments): files appeared or vanished")
            }
        }
        #expect(try CLI.run(["list", "--db", db]).status == 0)
    }

    @Test func directoriesDevicesFIFOsAndMissingFoldersAreRefused() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.database(in: dir)
        let fifo = dir.path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let folder = dir.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let cases: [(String, String)] = [
            (fifo, "it is not a regular file (a FIFO)"),
            ("/dev/null", "it is not a regular file (a character device)"),
            (folder, "it is a directory"),
            (dir.path("nowhere/x.svg"), "the folder \(dir.path("nowhere")) does not exist"),
        ]
        for (target, message) in cases {
            for arguments in Self.writers(db: db, path: target) {
                // A FIFO must be recognised without opening it: a reader would block forever here.
                Self.expectRefused(try CLI.run(arguments), "cannot write \(target): \(message)")
            }
        }
        var status = stat()
        #expect(stat(fifo, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        #expect(stat("/dev/null", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: dir.path("nowhere")))
    }

    @Test func aFileOfAnotherKindIsRefusedAnEarlierOutputIsReplaced() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.database(in: dir)
        let notes = dir.path("notes.txt")
        try "my notes\n".write(toFile: notes, atomically: false, encoding: .utf8)
        for arguments in Self.writers(db: db, path: notes) {
            Self.expectRefused(try CLI.run(arguments), "it exists and is not")
        }
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")

        // The same kind over itself: allowed, and nothing but the output is left in the folder.
        let csv = dir.path("f.csv"), svg = dir.path("f.svg")
        #expect(try CLI.run(["frame", "--n", "4", "--seed", "1", "--out", csv]).status == 0)
        let first = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(try CLI.run(["frame", "--n", "4", "--seed", "2", "--out", csv]).status == 0)
        #expect(try String(contentsOfFile: csv, encoding: .utf8) != first)
        #expect(try CLI.run(["plot", "--db", db, "--n", "4", "--out", svg]).status == 0)
        #expect(try CLI.run(["plot", "--db", db, "--n", "4", "--out", svg, "--log-x"]).status == 0)
        // An SVG is not a task file and a task file is not an SVG.
        Self.expectRefused(try CLI.run(["frame", "--n", "4", "--out", svg]), "is not a task file")
        Self.expectRefused(try CLI.run(["plot", "--db", db, "--n", "4", "--out", csv]), "is not an SVG file")
        #expect(try Self.names(dir).filter { $0.hasPrefix(".") }.isEmpty)
        var status = stat()
        #expect(stat(csv, &status) == 0 && status.st_mode & 0o777 != 0o600, "a temporary file's 0600 mode leaked")
    }

    /// A PNG (`plot --format png`, rendered by rsvg-convert) is an output like any other: a database in its
    /// place is refused before anything is written, and otherwise it goes in through a temporary file.
    @Test func aPNGIsCheckedAndReplacedAtomically() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.database(in: dir)
        let bin = dir.url("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // A stand-in rsvg-convert: reads the SVG on stdin, writes a PNG signature to --output.
        let fake = bin.appendingPathComponent("rsvg-convert")
        try "#!/bin/sh\ncat > /dev/null\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --output ]; then printf '\\211PNG\\r\\n\\032\\nfake' > \"$2\"; fi; shift; done\n"
            .write(to: fake, atomically: true, encoding: .utf8)
        #expect(chmod(fake.path, 0o755) == 0)
        let environment = ["PATH": bin.path + ":/usr/bin:/bin"]

        let png = dir.path("fig.png")
        let ok = try CLI.run(["plot", "--db", db, "--n", "4", "--out", png], environment: environment)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.errorLines == ["wrote \(png)"])
        #expect(FileManager.default.contents(atPath: png)?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
        #expect(try Self.names(dir).filter { $0.hasPrefix(".") }.isEmpty)
        // Over itself: allowed.
        #expect(try CLI.run(["plot", "--db", db, "--n", "4", "--out", png, "--log-x"], environment: environment).status == 0)

        // The PNG's place holds a database: refused, nothing changed, nothing left behind.
        try FileManager.default.removeItem(atPath: png)
        try Database(path: png).execute("CREATE TABLE precious (x)")
        let before = Self.fileSHA(png)
        Self.expectRefused(try CLI.run(["plot", "--db", db, "--n", "4", "--out", png, "--log-x"], environment: environment),
                           "cannot write \(png): it is an SQLite database")
        #expect(Self.fileSHA(png) == before)
        #expect(try Self.names(dir).filter { $0.hasPrefix(".") }.isEmpty)
    }

    /// `reproduce --report` is checked before the sweep runs: a bad folder costs no run and creates no database.
    @Test func reproduceChecksItsReportFolderBeforeRunningAnything() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("r.db")
        let plain = dir.path("plain.txt")
        try "x\n".write(toFile: plain, atomically: false, encoding: .utf8)
        let folder = dir.path("report")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let report = (folder as NSString).appendingPathComponent("report.md")
        try Database(path: report).execute("CREATE TABLE precious (x)")
        let before = Self.fileSHA(report)
        let quick = ["reproduce", "--db", db, "--quick", "--frames", "1", "--iterations", "10", "--jobs", "1", "--quiet"]
        Self.expectRefused(try CLI.run(quick + ["--report", plain]),
                           "cannot write the report into \(plain): it is not a folder (a regular file)")
        Self.expectRefused(try CLI.run(quick + ["--report", folder]), "cannot write \(report): it is an SQLite database")
        #expect(Self.fileSHA(report) == before)
        #expect(!FileManager.default.fileExists(atPath: db), "the sweep ran although the report could not be written")
    }
}
