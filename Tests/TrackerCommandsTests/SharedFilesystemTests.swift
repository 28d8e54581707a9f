import Foundation
import SQLite
import Testing
import TestSupport

/// One directory mounted twice through sshfs, as two hosts of a cluster see one share: sshd on a
/// loopback port of its own with keys made here, and two FUSE mounts of `shared/` at `a/` and `b/`.
/// Needs root, /dev/fuse, Debian's sshfs and openssh-server (scripts/test installs them).
///
/// Both mounts use `cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0`: sshfs otherwise serves a
/// file's cached size for 20 s after another mount changed it, and the FUSE kernel its cached attributes
/// and names for one more second, so a reader sees a truncated file ("malformed"; never a write) or a
/// `-wal` already gone. NFS revalidates on open (close-to-open consistency); docs/sweeps.md says so.
final class SharedDirectory {
    let dir: TemporaryDirectory
    /// The directory itself, on this machine's local disk: what the file server holds.
    var shared: String { dir.path("shared") }
    /// The first host's mount.
    var mountA: String { dir.path("a") }
    /// The second host's mount.
    var mountB: String { dir.path("b") }
    private var sshd: pid_t = 0

    init() throws {
        dir = try TemporaryDirectory(prefix: "tracker-sshfs")
        for name in ["shared", "a", "b", "ssh"] {
            try FileManager.default.createDirectory(atPath: dir.path(name), withIntermediateDirectories: true)
        }
        let ssh = dir.path("ssh")
        for key in ["client", "host"] {
            let made = try CLI.tool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(ssh)/\(key)"])
            guard made.status == 0 else { throw Failure("ssh-keygen failed: \(made.stderr)") }
        }
        try FileManager.default.copyItem(atPath: "\(ssh)/client.pub", toPath: "\(ssh)/authorized_keys")
        // sshd refuses to start without its privilege separation directory.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        // A port free a moment ago (other suites start servers too); taken by then, sshd exits and the
        // mounts fail: then again on another.
        var lastPort = 0
        for _ in 0..<5 {
            let port = try TrapTests.freePort()
            lastPort = port
            try """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(ssh)/host
                AuthorizedKeysFile \(ssh)/authorized_keys
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                PidFile \(ssh)/sshd.pid
                Subsystem sftp internal-sftp

                """.write(toFile: "\(ssh)/sshd_config", atomically: true, encoding: .utf8)
            // Not through Foundation's Process: it learns of a child's exit through a descriptor the child
            // keeps, and sshd closes it at start, which stalls the reaping of every other test's process.
            sshd = try Self.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", "\(ssh)/sshd_config"])
            if try mountBoth(port: port, ssh: ssh) { return }
            stop()
        }
        throw Failure("sshfs could not mount \(mountA) and \(mountB) from sshd (last tried port \(lastPort))")
    }

    private func mountBoth(port: Int, ssh: String) throws -> Bool {
        for mount in [mountA, mountB] {
            var mounted = false
            for _ in 0..<30 where !mounted {
                let status = try Self.spawnAndWait("/usr/bin/sshfs", [
                    "-p", "\(port)", "-o",
                    "IdentityFile=\(ssh)/client,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes,"
                        + "cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0",
                    "root@127.0.0.1:\(shared)", mount,
                ])
                mounted = status == 0 && Self.isMounted(mount)
                if !mounted { Thread.sleep(forTimeInterval: 0.1) }
            }
            guard mounted else { return false }
        }
        return true
    }

    /// Runs a program that forks a daemon (sshfs) and waits for the program itself.
    static func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> Int32 {
        // Through Python's subprocess, which starts the program with no descriptor beyond /dev/null
        // (close_fds), whatever this process has open: a daemon keeping one of Foundation's pipes would
        // hang another test's read to its end. Swift cannot reach glibc's closefrom spawn action.
        let launcher = ["-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, "
                            + "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))"]
        let pid = try spawn("/usr/bin/python3", launcher + [executable] + arguments)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// posix_spawn with /dev/null for the standard descriptors; the caller reaps the child.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { "\($0)=\($1)" }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw Failure("cannot start \(executable): error \(rc)") }
        return pid
    }

    /// The names in a directory of the share, without the `.fuse_hiddenNNN` files a FUSE client keeps for
    /// a file replaced while one of its readers still had it open (gone once the reader closes; the
    /// kernel tells the client so a moment later).
    static func listing(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".fuse_hidden") }.sorted()
    }

    static func isMounted(_ path: String) -> Bool {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(" \(path) ")
    }

    func stop() {
        for mount in [mountA, mountB] where Self.isMounted(mount) {
            _ = try? CLI.tool("/bin/fusermount", ["-u", "-z", mount])
        }
        guard sshd > 0 else { return }
        kill(sshd, SIGTERM)
        var status: Int32 = 0
        while waitpid(sshd, &status, 0) < 0 && errno == EINTR {}
        sshd = 0
    }

    deinit { stop() }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Issue 26: a database on a shared filesystem is never corrupted by a second host, and the published
/// shard pattern hands consistent copies over it.
@Suite(.serialized) struct SharedFilesystemTests {
    /// Every way the tracker says no on a shared filesystem ends with what to do instead.
    static func isGuidedRefusal(_ stderr: String) -> Bool {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == 1, let line = lines.first, line.hasPrefix("Error: ") else { return false }
        return ["docs/sweeps.md#shared-filesystems", "Wait for it to end", "cannot be resumed", "no run with id"]
            .contains { line.contains($0) }
    }

    @Test func writingThereIsRefusedAndReadingLeavesNothingBehind() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let onA = share.mountA + "/tracker.db"
        let refused = try CLI.run(["run", "--db", onA, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("it is on a shared filesystem (fuse.sshfs)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--publish") && refused.stderr.contains("--single-host"))
        #expect(Self.isGuidedRefusal(refused.stderr), "\(refused.stderr)")
        #expect(try SharedDirectory.listing(share.shared).isEmpty)

        // A database written on a local disk and moved into the share reads from either mount, and the
        // reads leave the directory as they found it (no -wal, -shm or lease).
        let local = share.dir.path("local.db")
        #expect(try CLI.run(["run", "--db", local, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]).status == 0)
        try FileManager.default.moveItem(atPath: local, toPath: share.shared + "/tracker.db")
        for mount in [share.mountA, share.mountB] {
            for command in [["list"], ["sql", "SELECT count(*) FROM metrics"], ["compare"]] {
                let read = try CLI.run(command + ["--db", mount + "/tracker.db"])
                #expect(read.status == 0, "\(command): \(read.stderr)")
            }
        }
        #expect(try CLI.run(["sql", "SELECT count(*) FROM metrics", "--db", share.mountB + "/tracker.db", "--format", "csv"])
            .stdout.contains("50"))
        #expect(try SharedDirectory.listing(share.shared) == ["tracker.db"])

        // With --single-host it writes there, and gives its lease back when it ends.
        let ids = try CLI.run(["sql", "SELECT run_id FROM runs", "--db", share.mountB + "/tracker.db", "--format", "csv"])
        let runID = try #require(ids.stdout.split(separator: "\n").dropFirst().first.map(String.init))
        let tagged = try CLI.run(["tag", runID, "k=v", "--db", onA, "--single-host"])
        #expect(tagged.status == 0, "\(tagged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: share.shared + "/tracker.db.lease"))
        #expect(try integrityCheck(share.shared + "/tracker.db") == "ok")
    }

    /// A writer on host A through mount A, and on host B through mount B, at a random moment of its run,
    /// one of the commands a researcher watching a cluster uses. Each trial's writer must finish whole, the
    /// file must pass integrity_check, every command either works or refuses with one guided line, and
    /// what a command reported as written (a tag) is there.
    @Test func fiftyTrialsOfAWriterAndAnotherHostNeverCorruptTheFile() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let name = "race.db"
        let onA = share.mountA + "/" + name, onB = share.mountB + "/" + name, file = share.shared + "/" + name
        let singleHost = ["TRACKER_SINGLE_HOST": "1"]
        let first = try CLI.run(["run", "--db", onA, "--algo", "ql", "--n", "4", "--iterations", "100", "--quiet"],
                                environment: singleHost, host: "node-a")
        #expect(first.status == 0, "\(first.stderr)")
        let firstRun = try #require(try firstRunID(file))  // no writer yet: a plain read of the server's disk
        let ui = try UIServer(database: onB)
        defer { ui.stop() }

        var timings = SeededTimings(seed: 26)
        let operations = ["list", "show", "tag", "tag-single-host", "sweep-status", "resume-force", "merge", "ui"]
        var seen: [String: [Int32]] = [:]
        var expectedTags: [String] = []
        let spec = share.dir.path("grid.json")
        try #"{"n": [4], "frames": 1, "seeds": [1], "iterations": 100, "configurations": [{"algorithm": "ql"}]}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        for trial in 0..<50 {
            let iterations = 20_000 + Int(timings.next() % 40_000)
            let algorithm = trial % 3 == 0 ? ["--algo", "dteql", "--phi", "5"] : ["--algo", "ql"]
            let writer = try CLI.start(["run", "--db", onA, "--n", "5", "--seed", "\(trial + 2)", "--iterations", "\(iterations)",
                                        "--quiet", "--checkpoint-every", "2000"] + algorithm,
                                       environment: singleHost, captureStderr: true, host: "node-a")
            Thread.sleep(forTimeInterval: Double(timings.next() % 400) / 1000)
            let operation = operations[Int(timings.next() % UInt64(operations.count))]
            // The newest run, read on host A through mount A, where the writer's locks reach.
            let newest = try CLI.run(["sql", "SELECT run_id FROM runs ORDER BY id DESC LIMIT 1", "--db", onA, "--format", "csv"],
                                     host: "node-a")
            let liveRun = newest.stdout.split(separator: "\n").dropFirst().first.map(String.init) ?? firstRun
            var status: Int32 = 0
            var stderr = ""
            func onHostB(_ arguments: [String], _ environment: [String: String] = [:]) throws {
                let result = try CLI.run(arguments, environment: environment, host: "node-b")
                status = result.status
                stderr = result.stderr
            }
            switch operation {
            case "list": try onHostB(["list", "--db", onB])
            case "show": try onHostB(["show", liveRun, "--db", onB])
            case "tag": try onHostB(["tag", firstRun, "trial\(trial)=yes", "--db", onB])
            case "tag-single-host":
                try onHostB(["tag", firstRun, "trial\(trial)=yes", "--db", onB], singleHost)
                if status == 0 { expectedTags.append("trial\(trial)") }
            case "sweep-status": try onHostB(["sweep", spec, "--status", "--db", onB])
            case "resume-force": try onHostB(["resume", liveRun, "--force", "--db", onB], singleHost)
            case "merge": try onHostB(["merge", share.dir.path("merged-\(trial).db"), onB])
            default:
                let response = try ui.get("/api/runs")
                status = response.status == 200 ? 0 : 1
                #expect([200, 503].contains(response.status), "trial \(trial): ui answered \(response.status)")
                stderr = response.status == 200 ? "" : "Error: \(response.body.prefix(300)) docs/sweeps.md#shared-filesystems"
            }
            seen[operation, default: []].append(status)
            #expect(status == 0 || (status == 1 && Self.isGuidedRefusal(stderr)),
                    "trial \(trial), \(operation) on host B: exit \(status): \(stderr)")
            #expect(waitForExit(writer, seconds: 120), "trial \(trial): the writer hung")
            let writerError = CLI.capturedStderr(writer)
            // A command on host B that promised --single-host may take the lease before the writer does:
            // then the writer is the one refused, with the same guided line.
            let writerRefused = writer.terminationStatus == 1 && ["tag-single-host", "resume-force"].contains(operation)
                && Self.isGuidedRefusal(writerError) && writerError.contains("held by host node-b")
            #expect(writer.terminationReason == .exit && (writer.terminationStatus == 0 || writerRefused),
                    "trial \(trial) (\(operation)): the writer ended with \(writer.terminationStatus): \(writerError)")
            // Checked on the server's own disk, immutable: this process takes no lock and leaves nothing.
            let database = try Database(path: file, mode: .readOnlyImmutable)
            #expect(try database.scalar("PRAGMA integrity_check") == .text("ok"), "trial \(trial) (\(operation))")
            let rows = try database.prepare("""
                SELECT r.status, r.done_iterations, (SELECT count(*) FROM metrics AS m WHERE m.run = r.id)
                FROM runs AS r WHERE r.run_id = ?
                """).rows([.text(liveRun)]) { "\($0.text(0))|\($0.int(1))|\($0.int(2))" }
            if liveRun != firstRun && !writerRefused {
                // Finished, with one metric row per iteration done.
                let parts = rows.first?.split(separator: "|") ?? []
                #expect(parts.count == 3 && parts[0] == "finished" && parts[1] == parts[2], "trial \(trial): \(rows)")
            }
        }
        #expect(ui.process.isRunning, "the dashboard on host B died")
        // Every tag reported as written is there.
        let tags = try CLI.run(["show", firstRun, "--db", onA, "--format", "json"], environment: singleHost, host: "node-a")
        for tag in expectedTags { #expect(tags.stdout.contains("\"\(tag)\""), "tag \(tag) was reported written and is missing") }
        // Both outcomes happened: refusals while the writer lived, and work once it had ended.
        #expect(seen.values.flatMap { $0 }.contains(1) && seen.values.flatMap { $0 }.contains(0), "\(seen)")
    }

    /// `sweep --publish`: a sweep on a local disk hands copies to the share; a reader on another host
    /// reads them while they are replaced; a stopped task publishes before it exits, and the same task
    /// started again on a fresh node (no local file) resumes from the copy. Merged, the published shards
    /// equal one sweep of the grid on one file.
    @Test func publishedShardsSurviveAStopAndARequeueAndMergeToOneSweep() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let spec = share.dir.path("grid.json")
        try """
            { "label": "published", "n": [6], "frames": 1, "seeds": [1, 2, 3], "iterations": 30000,
              "configurations": [ {"algorithm": "dteql", "phi": [300, 200]} ], "checkpoint_every": 1000 }
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let whole = share.dir.path("whole.db")
        #expect(try CLI.run(["sweep", spec, "--db", whole, "--jobs", "2", "--quiet"]).status == 0)

        // Shard 2 of 2, straight, published through mount A on host A.
        let straight = try CLI.run(["sweep", spec, "--shard", "2/2", "--db", share.dir.path("node1-local.db"), "--jobs", "1",
                                    "--publish", share.mountA + "/shard-2.db", "--quiet"], host: "node-a")
        #expect(straight.status == 0, "\(straight.stderr)")

        // Shard 1 of 2, publishing every second, stopped by SIGTERM (scancel) half-way.
        let local1 = share.dir.path("node2-local.db")
        let task = try CLI.start(["sweep", spec, "--shard", "1/2", "--db", local1, "--jobs", "1",
                                  "--publish", share.mountA + "/shard-1.db", "--publish-every", "1"],
                                 captureStderr: true, host: "node-a")
        // Host B reads the shards while copies are renamed over them: never a failure.
        var reads = 0
        let deadline = Date().addingTimeInterval(60)
        while task.isRunning && Date() < deadline {
            if FileManager.default.fileExists(atPath: share.shared + "/shard-1.db") {
                let status = try CLI.run(["sweep", spec, "--status", "--db", share.mountB + "/shard-*.db", "--format", "json"],
                                         host: "node-b")
                #expect(status.status == 0, "\(status.stderr)")
                reads += 1
                if reads == 3 { kill(task.processIdentifier, SIGTERM) }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(waitForExit(task, seconds: 60))
        #expect(task.terminationStatus == 143, "\(CLI.capturedStderr(task))")
        #expect(reads >= 3)
        let stopped = try Database(path: share.shared + "/shard-1.db", mode: .readOnly)
            .prepare("SELECT status FROM runs").rows { $0.text(0) }
        #expect(!stopped.isEmpty && !stopped.allSatisfy { $0 == "finished" }, "the stop did not land mid-sweep: \(stopped)")

        // Requeued on a node without the local file: it starts from the published copy.
        let requeued = try CLI.run(["sweep", spec, "--shard", "1/2", "--db", share.dir.path("node3-local.db"), "--jobs", "1",
                                    "--publish", share.mountA + "/shard-1.db"], host: "node-c")
        #expect(requeued.status == 0, "\(requeued.stderr)")
        #expect(requeued.stderr.contains("started from the copy published at"), "\(requeued.stderr)")
        #expect(!requeued.stderr.contains(" 0 resumed"), "\(requeued.stderr)")
        for file in try SharedDirectory.listing(share.shared) {
            #expect(["shard-1.db", "shard-2.db"].contains(file), "left in the share: \(file)")
        }

        // Merged on host B from the published shards: the same runs, bit for bit, as one sweep.
        let merged = share.dir.path("merged.db")
        let merge = try CLI.run(["merge", merged, share.mountB + "/shard-1.db", share.mountB + "/shard-2.db"], host: "node-b")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try runResults(merged) == runResults(whole))
    }

    /// A file whose -wal still holds commits (its writer was killed) cannot be read consistently without
    /// the log, and reading the log needs the shared memory that does not cross hosts: refused, with the
    /// way out, which then works.
    @Test func aLogLeftByAKilledWriterIsRefusedUntilFoldedIn() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let local = share.dir.path("local.db")
        #expect(try CLI.run(["run", "--db", local, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]).status == 0)
        let runID = try #require(try firstRunID(local))
        // A commit that stays in the log: the file and its -wal as a killed writer leaves them.
        let writer = try Database(path: local, mode: .readWrite)
        try writer.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute("INSERT INTO run_notes (run, note) SELECT id, 'in the log' FROM runs")
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: local + suffix, toPath: share.shared + "/tracker.db" + suffix)
        }
        let refused = try CLI.run(["show", runID, "--db", share.mountB + "/tracker.db"], host: "node-b")
        #expect(refused.status == 1 && refused.stderr.contains("its -wal holds commits not yet in the file"), "\(refused.stderr)")
        #expect(refused.stderr.contains("tracker check --single-host --db"), "\(refused.stderr)")
        #expect(Self.isGuidedRefusal(refused.stderr), "\(refused.stderr)")
        let folded = try CLI.run(["check", "--single-host", "--db", share.mountA + "/tracker.db"], host: "node-a")
        #expect(folded.status == 0, "\(folded.stderr)")
        let shown = try CLI.run(["show", runID, "--db", share.mountB + "/tracker.db"], host: "node-b")
        #expect(shown.status == 0 && shown.stdout.contains("in the log"), "\(shown.stderr)")
        #expect(try SharedDirectory.listing(share.shared) == ["tracker.db"])
    }

    @Test func aLeaseLeftByADeadHostGoesStaleAndIsTakenOver() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let onA = share.mountA + "/tracker.db"
        #expect(try CLI.run(["run", "--db", onA, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet", "--single-host"],
                            host: "node-a").status == 0)
        // A lease that host node-z wrote and never renewed: fresh, it keeps others out...
        let lease = share.shared + "/tracker.db.lease"
        try "host=node-z\ndevice=1\npid=77\nnonce=feedface\nkind=write\n".write(toFile: lease, atomically: false, encoding: .utf8)
        let held = try CLI.run(["list", "--db", onA, "--single-host"], host: "node-a")
        #expect(held.status == 1 && held.stderr.contains("held by host node-z (pid 77, writing"), "\(held.stderr)")
        #expect(Self.isGuidedRefusal(held.stderr), "\(held.stderr)")
        let read = try CLI.run(["list", "--db", share.mountB + "/tracker.db"], host: "node-b")
        #expect(read.status == 1 && read.stderr.contains("being written by host node-z"), "\(read.stderr)")
        // ... and once older than the staleness bound it is broken and taken.
        var old = [timespec(tv_sec: time(nil) - 10, tv_nsec: 0), timespec(tv_sec: time(nil) - 10, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, lease, &old, 0) == 0)
        let taken = try CLI.run(["list", "--db", onA, "--single-host"], environment: ["TRACKER_STALE_AFTER_S": "5"], host: "node-a")
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lease))
    }
}
