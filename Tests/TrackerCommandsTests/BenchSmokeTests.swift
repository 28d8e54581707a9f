import Foundation
import Testing
import TestSupport

/// `tracker-bench ui` end to end on a tiny database (the real benchmark, 10 M rows and 10,000 runs, is run
/// by hand: docs/benchmarks.md): it fills, tops up, starts `tracker ui --port 0`, times every page, puts a
/// one-second wrk load on it and stops the server again.
@Suite struct BenchSmokeTests {
    @Test func theUISectionRunsOnATinyDatabase() throws {
        let dir = try TemporaryDirectory()
        let bench = CLI.binary.deletingLastPathComponent().appendingPathComponent("tracker-bench").path
        let result = try CLI.tool(bench, ["ui", "--db", dir.path("ui.db"), "--rows", "2560", "--runs", "30", "--repeat", "3",
                                          "--seconds", "1", "--rounds", "1", "--connections", "2", "--long", "5000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("30 runs (28 small ones added now)"), "\(result.stdout)")
        for page in ["runs page", "run page", "compare page", "its Fig. 2 chart", "5000-iteration run's chart data",
                     "side-by-side page", "sweeps page", "sweep page", "studies page", "study page (/study?name=ui-bench-quick)",
                     "its objective against budget", "chart payload of the 5000-iteration run"] {
            #expect(result.stdout.contains(page), "\(result.stdout)")
        }
        #expect(result.stdout.contains("round 1: "), "\(result.stdout)")
        #expect(result.stdout.contains(" 0 errors"), "\(result.stdout)")
        // The server was stopped: nothing listens on its port any more.
        let url = try #require(result.stdout.firstMatch(of: /(http:\/\/127\.0\.0\.1:[0-9]+\/)/).map { String($0.1) })
        #expect(try CLI.tool("/usr/bin/curl", ["-s", "-o", "/dev/null", url]).status != 0)
    }
}
