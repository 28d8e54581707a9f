import Foundation
import SQLite
import Testing
import TestSupport

/// The repository's root, for the files the docs and the tests share (examples/, docs/).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A small grid whose every run takes long enough (dteql, 6000 iterations) to be killed mid-way.
private let engineSpec = """
    { "label": "engines", "n": [6, 7], "frames": 1, "seeds": [1, 2], "iterations": 6000,
      "configurations": [ {"algorithm": "dteql", "phi": [300, 200]} ], "checkpoint_every": 500 }
    """

/// PATH with the built `tracker` first, as a user who installed it has it.
private let pathWithTracker = ["PATH": CLI.binary.deletingLastPathComponent().path + ":"
                               + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]

/// Writes the spec into `dir`, runs it as one unsharded sweep into `whole.db`, and returns that path.
private func unshardedReference(in dir: TemporaryDirectory) throws -> String {
    try engineSpec.write(toFile: dir.path("grid.json"), atomically: true, encoding: .utf8)
    let whole = dir.path("whole.db")
    let sweep = try CLI.run(["sweep", dir.path("grid.json"), "--db", whole, "--jobs", "2", "--quiet"])
    #expect(sweep.status == 0, "\(sweep.stderr)")
    return whole
}

/// Merges `shards` into `merged.db` and expects its results and compare tables to equal `whole`'s.
private func expectMergedShardsEqual(_ whole: String, shards: [String], in dir: TemporaryDirectory) throws {
    let merged = dir.path("merged.db")
    let merge = try CLI.run(["merge", merged] + shards)
    #expect(merge.status == 0, "\(merge.stderr)")
    try expectSameTables(whole, merged)
}

private func expectSameTables(_ whole: String, _ merged: String) throws {
    #expect(try runResults(merged) == runResults(whole))
    #expect(try runResults(merged).allSatisfy { $0.contains("finished") })
    for arguments in [["compare", "--n", "6"], ["compare", "--n", "7"], ["compare"]] {
        let expected = try CLI.run(arguments + ["--db", whole])
        let got = try CLI.run(arguments + ["--db", merged])
        #expect(expected.status == 0, "\(expected.stderr)")
        #expect(got.stdout == expected.stdout, "\(arguments)")
    }
}

/// A single-node Slurm cluster on this machine, started for one test and stopped after it: its own munge
/// key and socket, slurm.conf, state and logs in a temporary directory, ports of its own. Needs root and
/// Debian's munge, slurmctld, slurmd and slurm-client (scripts/test installs them).
final class SlurmCluster {
    let dir: TemporaryDirectory
    /// SLURM_CONF for the clients (sbatch, squeue, scancel), plus PATH with tracker.
    let environment: [String: String]
    /// munged, slurmctld, slurmd: children of this test process.
    private var daemons: [pid_t] = []

    init() throws {
        dir = try TemporaryDirectory(prefix: "tracker-slurm")
        let root = dir.url.path
        // slurmd finds its node by the short hostname.
        let node = try CLI.tool("/bin/hostname", ["-s"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Ports away from Slurm's defaults, varied by process so two test runs do not collide.
        let port = 20_000 + Int(getpid() % 20_000) * 2
        let key = (0..<1024).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: dir.path("munge.key"), contents: Data(key), attributes: [.posixPermissions: 0o400])
        for folder in ["state", "spool"] {
            try FileManager.default.createDirectory(atPath: dir.path(folder), withIntermediateDirectories: true)
        }
        let configuration = """
            ClusterName=trackertest
            SlurmctldHost=\(node)(127.0.0.1)
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket=\(root)/munge.socket
            StateSaveLocation=\(root)/state
            SlurmdSpoolDir=\(root)/spool
            SlurmctldPidFile=\(root)/slurmctld.pid
            SlurmdPidFile=\(root)/slurmd.pid
            SlurmctldLogFile=\(root)/slurmctld.log
            SlurmdLogFile=\(root)/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            SchedulerType=sched/builtin
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            ReturnToService=2
            MpiDefault=none
            KillWait=5
            NodeName=\(node) NodeAddr=127.0.0.1 CPUs=\(ProcessInfo.processInfo.activeProcessorCount) State=UNKNOWN
            PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP

            """
        try configuration.write(toFile: dir.path("slurm.conf"), atomically: true, encoding: .utf8)
        environment = pathWithTracker.merging(["SLURM_CONF": dir.path("slurm.conf")]) { $1 }

        try startDaemon("/usr/sbin/munged", [
            "--foreground", "--force", "--key-file=\(root)/munge.key", "--socket=\(root)/munge.socket",
            "--pid-file=\(root)/munged.pid", "--log-file=\(root)/munged.log", "--seed-file=\(root)/munge.seed",
        ])
        try waitFor("munged's socket", seconds: 15) { FileManager.default.fileExists(atPath: "\(root)/munge.socket") }
        try startDaemon("/usr/sbin/slurmctld", ["-D", "-i"])
        try startDaemon("/usr/sbin/slurmd", ["-D"])
        try waitFor("the node to be idle", seconds: 60) {
            (try? self.run("/usr/bin/sinfo", ["-h", "-o", "%t"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == "idle"
        }
    }

    deinit { stop() }

    /// Stops slurmd, slurmctld and munged (SIGTERM, then SIGKILL after 10 s), newest first, and reaps them.
    func stop() {
        for daemon in daemons.reversed() {
            kill(daemon, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            var status: Int32 = 0
            while waitpid(daemon, &status, WNOHANG) == 0 {
                if Date() > deadline {
                    kill(daemon, SIGKILL)
                    waitpid(daemon, &status, 0)
                    break
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        daemons.removeAll()
    }

    private func isRunning(_ daemon: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(daemon, &status, WNOHANG) == 0
    }

    /// A client command against this cluster, bounded to two minutes (SIGKILL: a SIGTERM could find
    /// itself blocked, as above).
    @discardableResult
    func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
             environment extra: [String: String] = [:]) throws -> CLI.Result {
        try CLI.tool("/usr/bin/timeout", ["--signal=KILL", "120", executable] + arguments, in: directory,
                     environment: environment.merging(extra) { $1 })
    }

    /// What the daemons logged, for a failing expectation.
    var logs: String {
        ["slurmctld.log", "slurmd.log", "munged.log", "daemons.out"].map { name in
            "== \(name)\n" + ((try? String(contentsOfFile: dir.path(name), encoding: .utf8))?.suffix(3000) ?? "")
        }.joined(separator: "\n")
    }

    /// Starts a daemon in the foreground with posix_spawn, with no signal blocked and every handler at its
    /// default: a child of Foundation's Process inherits the test runner's blocked signals, and then
    /// slurmctld's and slurmd's threads never hear from each other and SIGTERM does not stop them.
    private func startDaemon(_ executable: String, _ arguments: [String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir.path("daemons.out"), O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environmentLines = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environmentLines.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SlurmFailure(message: "cannot start \(executable): error \(rc)") }
        daemons.append(pid)
    }

    private func waitFor(_ what: String, seconds: Double, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline, daemons.allSatisfy(isRunning) else {
                stop()
                throw SlurmFailure(message: "the Slurm cluster did not start: waited \(seconds) s for \(what)\n\(logs)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    struct SlurmFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// The Slurm job array of docs/sweeps.md (examples/slurm/sweep-array.sh, the file the doc includes) on a
/// real single-node cluster: merged shards equal one unsharded sweep, also after one task is killed
/// mid-run and resubmitted.
@Suite(.serialized) struct SlurmJobArrayTests {
    static let script = repositoryRoot.appendingPathComponent("examples/slurm/sweep-array.sh").path
    /// Four shards, one CPU each, so two tasks share the two cores.
    static let arrayOptions = ["--array=1-4", "--cpus-per-task=1"]

    /// docs/sweeps.md shows the script in full: the copy there is the file.
    @Test func theDocShowsTheScriptAsItIs() throws {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/sweeps.md"), encoding: .utf8)
        let script = try String(contentsOfFile: Self.script, encoding: .utf8)
        #expect(doc.contains("```bash\n" + script + "```\n"))
    }

    @Test func theJobArrayMergedEqualsOneSweep() throws {
        let dir = try TemporaryDirectory()
        let whole = try unshardedReference(in: dir)
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let submit = try cluster.run("/usr/bin/sbatch", ["--wait"] + Self.arrayOptions + [Self.script, "grid.json", "4"], in: dir.url)
        #expect(submit.status == 0, "\(submit.stdout)\(submit.stderr)\n\(cluster.logs)")
        let shards = (1...4).map { dir.path("shard-\($0).db") }
        for shard in shards { #expect(FileManager.default.fileExists(atPath: shard), "\(shard)\n\(cluster.logs)") }
        try expectMergedShardsEqual(whole, shards: shards, in: dir)
    }

    @Test func aTaskKilledMidRunAndResubmittedStillEqualsOneSweep() throws {
        let dir = try TemporaryDirectory()
        let whole = try unshardedReference(in: dir)
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        // The tasks' node-local disk ($TMPDIR, which sbatch passes on to the job).
        let node = dir.path("node-local")
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
        let submit = try cluster.run("/usr/bin/sbatch", ["--parsable"] + Self.arrayOptions + [Self.script, "grid.json", "4"],
                                     in: dir.url, environment: ["TMPDIR": node])
        #expect(submit.status == 0, "\(submit.stderr)")
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // Kill task 2's tracker with SIGKILL (a crash, or a preemption without grace) once its local
        // database has recorded progress: the task fails and publishes nothing more (its script then
        // removes the local file), so the shard it published last, if any, holds its run unfinished.
        let (_, victim) = try Self.waitForRunningTask(2, of: job, in: node, cluster: cluster)
        #expect(kill(victim, SIGKILL) == 0)
        try Self.waitForQueueToEmpty(job, cluster: cluster)
        let published = dir.path("shard-2.db")
        if FileManager.default.fileExists(atPath: published) {
            let statuses = try Database(path: published, mode: .readOnly).prepare("SELECT status FROM runs").rows { $0.text(0) }
            #expect(!statuses.allSatisfy { $0 == "finished" }, "the kill did not land mid-run: \(statuses)")
            #expect(try integrityCheck(published) == "ok")
        }

        let resubmit = try cluster.run("/usr/bin/sbatch", ["--wait", "--array=2", "--cpus-per-task=1", Self.script, "grid.json", "4"],
                                       in: dir.url, environment: ["TMPDIR": node])
        #expect(resubmit.status == 0, "\(resubmit.stdout)\(resubmit.stderr)\n\(cluster.logs)")
        try expectMergedShardsEqual(whole, shards: (1...4).map { dir.path("shard-\($0).db") }, in: dir)
    }

    /// Issue 26's cluster pattern end to end: the array submitted from a directory on a FUSE (sshfs)
    /// mount, each task writing node-local and publishing its shard there; task 2 cancelled with scancel
    /// mid-run (it publishes before it exits) and submitted again (it starts from its published shard);
    /// the published shards merged through a second mount of the share equal one unsharded sweep.
    @Test func aCancelledTaskOnAFUSEMountRequeuedStillEqualsOneSweep() throws {
        let share = try SharedDirectory()
        defer { share.stop() }
        let dir = try TemporaryDirectory()
        let whole = try unshardedReference(in: dir)
        try FileManager.default.copyItem(atPath: dir.path("grid.json"), toPath: share.mountA + "/grid.json")
        let node = dir.path("node-local")
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let onShare = URL(fileURLWithPath: share.mountA)
        let submit = try cluster.run("/usr/bin/sbatch", ["--parsable"] + Self.arrayOptions + [Self.script, "grid.json", "4"],
                                     in: onShare, environment: ["TMPDIR": node])
        #expect(submit.status == 0, "\(submit.stderr)")
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Self.waitForRunningTask(2, of: job, in: node, cluster: cluster)
        let cancel = try cluster.run("/usr/bin/scancel", ["\(job)_2"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        try Self.waitForQueueToEmpty(job, cluster: cluster)
        // The cancelled task published its stopped runs before it exited.
        let published = share.shared + "/shard-2.db"
        let statuses = try Database(path: published, mode: .readOnlyImmutable).prepare("SELECT status FROM runs").rows { $0.text(0) }
        #expect(statuses.contains("interrupted"), "task 2 did not publish its stopped runs: \(statuses)\n\(cluster.logs)")

        let resubmit = try cluster.run("/usr/bin/sbatch", ["--wait", "--array=2", "--cpus-per-task=1", Self.script, "grid.json", "4"],
                                       in: onShare, environment: ["TMPDIR": node])
        #expect(resubmit.status == 0, "\(resubmit.stdout)\(resubmit.stderr)\n\(cluster.logs)")
        // Only the published shards (and the spec and logs) are in the share: no local database, no lease.
        let left = try SharedDirectory.listing(share.shared).filter { !$0.hasSuffix(".log") }
        #expect(left == ["grid.json", "shard-1.db", "shard-2.db", "shard-3.db", "shard-4.db"], "\(left)")
        try expectMergedShardsEqual(whole, shards: (1...4).map { share.mountB + "/shard-\($0).db" }, in: dir)
    }

    /// Task `index`'s node-local database and its tracker's pid, once that task has recorded progress.
    static func waitForRunningTask(_ index: Int, of job: String, in node: String, cluster: SlurmCluster) throws -> (String, pid_t) {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: node)) ?? []
            if let name = names.first(where: { $0.hasPrefix("tracker-\(job)_\(index)-") && $0.hasSuffix(".db") }),
               let database = try? Database(path: node + "/" + name, mode: .readOnly),
               case .integer(let pid)? = try? database.scalar(
                   "SELECT pid FROM runs WHERE status = 'running' AND done_iterations >= 1000") {
                return (node + "/" + name, pid_t(pid))
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        throw SlurmCluster.SlurmFailure(message: "task \(index) never got going\n\(cluster.logs)")
    }

    static func waitForQueueToEmpty(_ job: String, cluster: SlurmCluster) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline,
              !(try cluster.run("/usr/bin/squeue", ["-h", "-j", job]).stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty) {
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}

/// The GNU parallel command of docs/sweeps.md, run verbatim on this machine, then its merge command:
/// the merged grid equals one unsharded sweep.
@Suite struct GNUParallelTests {
    /// The doc's lines that start with `prefix`, from its "GNU parallel" section.
    static func documentedCommand(startingWith prefix: String) throws -> String {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/sweeps.md"), encoding: .utf8)
        let section = try #require(doc.range(of: "### GNU parallel"))
        return try #require(doc[section.upperBound...].split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init),
                            "docs/sweeps.md has no line starting with \(prefix)")
    }

    @Test func theDocumentedCommandMergedEqualsOneSweep() throws {
        let dir = try TemporaryDirectory()
        let whole = try unshardedReference(in: dir)
        try FileManager.default.moveItem(atPath: dir.path("grid.json"), toPath: dir.path("my-grid.json"))
        let parallel = try Self.documentedCommand(startingWith: "parallel --jobs 4 ")
        let merge = try Self.documentedCommand(startingWith: "tracker merge grid.db ")
        for command in [parallel, merge] {
            let result = try CLI.tool("/usr/bin/timeout", ["--signal=KILL", "300", "/bin/sh", "-c", command], in: dir.url, environment: pathWithTracker)
            #expect(result.status == 0, "\(command): \(result.stderr)")
        }
        try expectSameTables(whole, dir.path("grid.db"))
    }
}
