import Foundation
import Learning
import Testing
import TestSupport
import TrackerApp
@testable import TrackerStore

/// `tracker tune`'s pure parts: the study spec's refusals, the samplers, the schedulers' rung arithmetic.
struct TuneSpecTests {
    static let valid = """
        {"name": "t", "n": [5], "frames": 2, "seeds": [1], "algorithm": "dteql", "fixed": {"epsilon_min": 0.05},
         "search": {"lr": {"log_uniform": [0.05, 1]}, "epsilon_decay": {"uniform": [50, 2000]}, "phi": {"choice": [5, 10, 20]}},
         "objective": "median_convergence", "budget": {"min_iterations": 200, "max_iterations": 1800, "reduction": 3},
         "trials": 9, "scheduler": "asha", "sampler": "sobol", "seed": 1}
        """

    /// The valid spec with one top-level key replaced (or removed with nil).
    static func edited(_ key: String, _ value: String?) -> String {
        var object = try! JSONSerialization.jsonObject(with: Data(valid.utf8)) as! [String: Any]
        object[key] = value.map { try! JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Every bad input of issue 23, and a few more: one line naming the key.
    static let refusals: [(key: String, value: String?, message: String)] = [
        ("search", #"{"lr": {"uniform": [0.5, 0.5]}}"#, "empty or inverted range"),
        ("search", #"{"lr": {"uniform": [0.9, 0.1]}}"#, "empty or inverted range"),
        ("search", #"{"phi": {"int_uniform": [30, 10]}}"#, "empty or inverted range"),
        ("search", #"{"lr": {"log_uniform": [0, 1]}}"#, "cannot touch 0"),
        ("search", #"{"lr": {"log_uniform": [-1, 1]}}"#, "cannot touch 0"),
        ("search", #"{"learning_rat": {"uniform": [0.1, 1]}}"#, "unknown setting 'learning_rat'"),
        ("search", #"{"n": {"choice": [5, 6]}}"#, "unknown setting 'n'"),
        ("search", #"{"lr": {"normal": [0.1, 1]}}"#, "unknown distribution 'normal'"),
        ("search", #"{"lr": {"uniform": [0.1, 2]}, "phi": {"choice": [5]}}"#, "learning-rate must be in (0, 1]"),
        ("search", #"{"lr": {"uniform": [0.1, 1]}, "learning_rate": {"uniform": [0.1, 1]}}"#, "give it once"),
        ("search", #"{"delta": {"choice": [8]}}"#, "dteql has no delta"),
        ("search", #"{"reward": {"uniform": [0, 1]}}"#, "choice"),
        ("search", "{}", "non-empty"),
        ("search", nil, "'search' is missing"),
        ("objective", #""fastest""#, "'objective' 'fastest' does not exist"),
        ("checkpoint_every", "500", "below one checkpoint interval"),
        ("budget", #"{"min_iterations": 200, "max_iterations": 1800, "reduction": 1}"#, "'budget.reduction' must be at least 2"),
        ("budget", #"{"min_iterations": 2000, "max_iterations": 1800, "reduction": 3}"#, "must be at least 'budget.min_iterations'"),
        ("budget", #"{"min_iterations": 200, "max_iterations": 1800, "reduction": 3, "eta": 2}"#, "budget: unknown key 'eta'"),
        ("trials", "10001", "more than the limit of 10000 trials"),
        ("trials", "0", "'trials' must be at least 1"),
        ("scheduler", #""bohb""#, "'scheduler' 'bohb' is not one of asha, hyperband"),
        ("sampler", #""bayes""#, "'sampler' 'bayes' is not one of random, sobol, tpe"),
        ("algorithm", #""sarsa""#, "'algorithm' 'sarsa'"),
        ("name", nil, "'name' is missing"),
        ("frames", "0", "'frames' must be between 1"),
        ("fixed", #"{"gamma": "high"}"#, "'fixed.gamma' must be a finite number"),
        ("colour", #""red""#, "unknown key 'colour'"),
    ]

    @Test func everyBadInputIsOneLineNamingTheKey() {
        for (key, value, message) in Self.refusals {
            let text = Self.edited(key, value)
            do {
                _ = try StudySpec.parse(text, source: "s.json")
                Issue.record("accepted \(key) = \(value ?? "nil")")
            } catch {
                let line = "\(error)"
                #expect(line.hasPrefix("s.json: ") && !line.contains("\n") && line.contains(message), "\(key): \(line)")
            }
        }
        #expect(throws: (any Error).self) { try StudySpec.parse("[1]", source: "s.json") }
        #expect(throws: (any Error).self) { try StudySpec.parse("{", source: "s.json") }
    }

    /// The example studies in studies/ parse, and quick.json stays small.
    @Test func theExampleStudiesParse() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("studies")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.contains("quick.json"))
        for file in files {
            let path = folder.appendingPathComponent(file).path
            let spec = try StudySpec.parse(try String(contentsOfFile: path, encoding: .utf8), source: path)
            if file == "quick.json" { #expect(spec.trials * spec.positions.count * spec.maxIterations <= 50_000) }
        }
    }

    @Test func aliasesAndCanonicalNamesMakeTheSameStudy() throws {
        let spec = try StudySpec.parse(Self.valid, source: "s.json")
        let aliased = try StudySpec.parse(Self.valid.replacingOccurrences(of: "\"epsilon_decay\"", with: "\"beta\"")
            .replacingOccurrences(of: "\"lr\"", with: "\"learning-rate\""), source: "s.json")
        #expect(spec.specHash == aliased.specHash)
        #expect(spec.search.map(\.name) == ["beta", "lr", "phi"])
        #expect(spec.fixed["eps_min"] == .number(0.05))
        #expect(spec.direction == .minimize)
        #expect(try StudySpec.parse(Self.edited("objective", #""reward_auc""#), source: "s").direction == .maximize)
    }

    @Test func theSameSpecGivesTheSameTrialsAndAnotherSeedOthers() throws {
        for sampler in ["sobol", "random"] {
            let text = Self.edited("sampler", "\"\(sampler)\"")
            let a = try StudySpec.parse(text, source: "s").trialSettings(results: [:]).map { $0! }
            let b = try StudySpec.parse(text, source: "s").trialSettings(results: [:]).map { $0! }
            #expect(a == b)
            let other = try StudySpec.parse(
                String(decoding: try JSONSerialization.data(withJSONObject: {
                    var o = try! JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
                    o["seed"] = 2
                    return o
                }()), as: UTF8.self), source: "s").trialSettings(results: [:]).map { $0! }
            #expect(a != other)
            for trial in a {
                let lr = trial["lr"]!.number!, beta = trial["beta"]!.number!
                #expect(lr >= 0.05 && lr <= 1 && beta >= 50 && beta <= 2000)
                #expect([StudyValue.integer(5), .integer(10), .integer(20)].contains(trial["phi"]!))
            }
        }
    }

    /// The first 32 points of the unshifted sequence in 12 dimensions, times 32 (they have 5 bits), as
    /// Joe and Kuo's direction numbers give them (the same as SciPy's qmc.Sobol(d=12, scramble=False)).
    static let sobolTable: [[Int]] = [
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16],
        [24, 8, 8, 8, 24, 24, 8, 24, 24, 24, 24, 24],
        [8, 24, 24, 24, 8, 8, 24, 8, 8, 8, 8, 8],
        [12, 12, 20, 28, 12, 4, 12, 28, 28, 20, 28, 12],
        [28, 28, 4, 12, 28, 20, 28, 12, 12, 4, 12, 28],
        [20, 4, 28, 20, 20, 28, 4, 4, 4, 12, 4, 20],
        [4, 20, 12, 4, 4, 12, 20, 20, 20, 28, 20, 4],
        [6, 10, 30, 14, 18, 10, 14, 30, 30, 10, 22, 2],
        [22, 26, 14, 30, 2, 26, 30, 14, 14, 26, 6, 18],
        [30, 2, 22, 6, 10, 18, 6, 6, 6, 18, 14, 26],
        [14, 18, 6, 22, 26, 2, 22, 22, 22, 2, 30, 10],
        [10, 6, 10, 18, 30, 14, 2, 2, 2, 30, 10, 14],
        [26, 22, 26, 2, 14, 30, 18, 18, 18, 14, 26, 30],
        [18, 14, 2, 26, 6, 22, 10, 26, 26, 6, 18, 22],
        [2, 30, 18, 10, 22, 6, 26, 10, 10, 22, 2, 6],
        [3, 15, 15, 21, 9, 31, 17, 27, 15, 5, 3, 13],
        [19, 31, 31, 5, 25, 15, 1, 11, 31, 21, 19, 29],
        [27, 7, 7, 29, 17, 7, 25, 3, 23, 29, 27, 21],
        [11, 23, 23, 13, 1, 23, 9, 19, 7, 13, 11, 5],
        [15, 3, 27, 9, 5, 27, 29, 7, 19, 17, 31, 1],
        [31, 19, 11, 25, 21, 11, 13, 23, 3, 1, 15, 17],
        [23, 11, 19, 1, 29, 3, 21, 31, 11, 9, 7, 25],
        [7, 27, 3, 17, 13, 19, 5, 15, 27, 25, 23, 9],
        [5, 5, 17, 27, 27, 21, 31, 5, 17, 15, 21, 15],
        [21, 21, 1, 11, 11, 5, 15, 21, 1, 31, 5, 31],
        [29, 13, 25, 19, 3, 13, 23, 29, 9, 23, 13, 23],
        [13, 29, 9, 3, 19, 29, 7, 13, 25, 7, 29, 7],
        [9, 9, 5, 7, 23, 17, 19, 25, 13, 27, 9, 3],
        [25, 25, 21, 23, 7, 1, 3, 9, 29, 11, 25, 19],
        [17, 1, 13, 15, 15, 9, 27, 1, 21, 3, 17, 27],
        [1, 17, 29, 31, 31, 25, 11, 17, 5, 19, 1, 11]
    ]

    @Test func sobolPointsMatchThePublishedTable() {
        let points = Sobol.points(count: 32, dimensions: 12)
        #expect(points.map { $0.map { Int($0 * 32) } } == Self.sobolTable)
        #expect(points.allSatisfy { $0.allSatisfy { $0 * 32 == ($0 * 32).rounded() } })
        // The shift keeps every dimension's first 2^k points one per interval of width 2^-k.
        let shifted = Sobol.points(count: 64, dimensions: 12, shiftSeed: 7)
        #expect(shifted != Sobol.points(count: 64, dimensions: 12))
        for dimension in 0..<12 {
            #expect(Set(shifted.map { Int($0[dimension] * 64) }).count == 64)
        }
    }

    @Test func rungsAndBrackets() {
        #expect(StudySpec.rungs(min: 1600, max: 25600, reduction: 3) == [1600, 4800, 14400, 25600])
        #expect(StudySpec.rungs(min: 100, max: 900, reduction: 3) == [100, 300, 900])
        #expect(StudySpec.rungs(min: 500, max: 500, reduction: 2) == [500])
        #expect(StudySpec.rungs(min: 1, max: 1_000_000_000, reduction: 1000) == [1, 1000, 1_000_000, 1_000_000_000])
        let asha = StudyPlan(scheduler: .asha, trials: 81, rungs: [1600, 4800, 14400, 43200, 129600], reduction: 3)
        #expect(asha.brackets == [.init(first: 0, count: 81, startRung: 0)])
        #expect(asha.totalTrialRungs() == 81 + 27 + 9 + 3 + 1)
        // Hyperband with s_max = 2, reduction 3: shares 9, 5, 3 of 17.
        let hyperband = StudyPlan(scheduler: .hyperband, trials: 17, rungs: [200, 600, 1800], reduction: 3)
        #expect(hyperband.brackets == [.init(first: 0, count: 9, startRung: 0), .init(first: 9, count: 5, startRung: 1),
                                       .init(first: 14, count: 3, startRung: 2)])
        #expect(hyperband.totalTrialRungs() == (9 + 3 + 1) + (5 + 1) + 3)
        let few = StudyPlan(scheduler: .hyperband, trials: 2, rungs: [200, 600, 1800], reduction: 3)
        #expect(few.brackets.map(\.count).reduce(0, +) == 2)
    }

    /// Promotions: the best 1/reduction, ties by the lower index, missing values (beyond the budget) last;
    /// nothing is promoted before the rung is complete.
    @Test func promotionsComeFromCompleteRungs() {
        let plan = StudyPlan(scheduler: .asha, trials: 6, rungs: [10, 30, 90], reduction: 3)
        var results: StudyPlan.Results = [:]
        for trial in 0..<5 { results[trial] = [0: RungObjective([5, nil, 3, 3, 9][trial])] }
        let partial = plan.schedule(results: results, direction: .minimize)
        #expect(partial.ready.map(\.trial) == [5] && !partial.complete)
        results[5] = [0: RungObjective(3)]
        let next = plan.schedule(results: results, direction: .minimize)
        #expect(next.ready.map { [$0.trial, $0.rung] } == [[2, 1], [3, 1]])
        let maximize = plan.schedule(results: results, direction: .maximize)
        #expect(maximize.ready.map { [$0.trial, $0.rung] } == [[0, 1], [4, 1]])
        #expect(StudyStatus.objective(.medianConvergence, [100, nil, nil]) == nil)
        #expect(StudyStatus.objective(.medianConvergence, [100, 50, nil]) == 100)
        #expect(StudyStatus.objective(.medianConvergence, [100, 50, nil, 10]) == 75)
        #expect(StudyStatus.objective(.meanOptimalityRatio, [1, 0.5, nil]) == 0.75)
    }

    @Test func anEditedSpecNamesWhatChanged() throws {
        let a = try StudySpec.parse(Self.valid, source: "s").canonicalJSON
        let b = try StudySpec.parse(Self.valid.replacingOccurrences(of: "\"trials\": 9", with: "\"trials\": 10")
            .replacingOccurrences(of: "[50, 2000]", with: "[50, 3000]"), source: "s").canonicalJSON
        #expect(StudySpec.changedKeys(stored: a, now: b) == ["search.beta", "trials"])
        #expect(StudySpec.changedKeys(stored: a, now: a).isEmpty)
    }
}

/// The study tables through the store: a study is recorded once with its trials, an edited spec is
/// refused naming what changed (nothing written), and a trial-rung is recorded once.
struct StudyRecordTests {
    @Test func aStudyIsRecordedOnceAndATrialRungOnce() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let spec = try StudySpec.parse(TuneSpecTests.valid, source: "s")
        let trials = spec.trialSettings(results: [:]).enumerated().map {
            StudyTrialRow(trial: $0.offset, bracket: 0, settings: StudyStatus.settingsJSON($0.element!))
        }
        let first = try store.openStudy(name: spec.name, spec: spec.canonicalJSON, specHash: spec.specHash,
                                        objective: spec.objective.rawValue, direction: spec.direction.rawValue)
        let again = try store.openStudy(name: spec.name, spec: spec.canonicalJSON, specHash: spec.specHash,
                                        objective: spec.objective.rawValue, direction: spec.direction.rawValue)
        #expect(first.id == again.id)
        try store.recordStudyTrials(first.id, trials: trials)
        try store.recordStudyTrials(first.id, trials: Array(trials.prefix(3)))
        #expect(try store.database.scalar("SELECT count(*) FROM study_trials") == .integer(9))
        // A row an older tracker wrote (JSONSerialization's shorter numbers) is the same trial.
        let settings = spec.trialSettings(results: [:])
        try store.database.prepare("UPDATE study_trials SET settings = ? WHERE trial = 1")
            .run([.text(StudyStatus.legacySettingsJSON(settings[1]!))])
        try store.recordStudyTrials(first.id, trials: [StudyTrialRow(
            trial: 1, bracket: 0, settings: StudyStatus.settingsJSON(settings[1]!), legacySettings: StudyStatus.legacySettingsJSON(settings[1]!))])
        // A trial drawn differently is refused, and nothing of the call is written.
        #expect {
            try store.recordStudyTrials(first.id, trials: [StudyTrialRow(trial: 9, bracket: 0, settings: "{}"),
                                                           StudyTrialRow(trial: 2, bracket: 0, settings: "{}")])
        } throws: { "\($0)".contains("trial 2 is recorded with settings") }
        #expect(try store.database.scalar("SELECT count(*) FROM study_trials") == .integer(9))
        let edited = try StudySpec.parse(TuneSpecTests.edited("seed", "5"), source: "s")
        #expect {
            try store.openStudy(name: spec.name, spec: edited.canonicalJSON, specHash: edited.specHash,
                                objective: edited.objective.rawValue, direction: edited.direction.rawValue)
        } throws: { "\($0)".contains("seed changed since") }
        #expect(try store.database.scalar("SELECT count(*) FROM studies") == .integer(1))
        let runs = [StudyRunValue(position: 0, runID: "a", value: 10), StudyRunValue(position: 1, runID: "b", value: nil)]
        #expect(try store.recordStudyRung(first.id, trial: 3, rung: 0, budget: 200, objective: nil, iterations: 400, runs: runs))
        #expect(try !store.recordStudyRung(first.id, trial: 3, rung: 0, budget: 200, objective: 5, iterations: 400, runs: []))
        let records = try store.studyRungs(first.id)
        #expect(records.count == 1 && records[0].trial == 3 && records[0].budget == 200 && records[0].objective == nil
            && records[0].iterations == 400 && records[0].runs == runs)
        #expect(try store.studyNames() == ["t"])
    }
}
