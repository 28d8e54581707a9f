import Foundation
import Testing
import TestSupport
import TrackerApp
import TrackerStore

/// The `tpe` sampler (TPE.swift, TrialSampling.swift; docs/tune.md "Samplers"): it draws the same trials
/// for the same spec and results, a trial depends only on earlier batches' results, and on the two documented
/// problems below it finds better settings than `random` and `sobol` with the same number of trials.
struct TPETests {
    /// The documented problems' space: as studies/tune-vs-grid-n7-lr05.json searches it.
    static func spec(sampler: String, seed: Int, trials: Int = 81, extra: String = "") -> String {
        """
        {"name": "tpe", "n": [7], "frames": 1, "seeds": [1], "algorithm": "dteql",
         "search": {"lr": {"log_uniform": [0.01, 0.5]}, "epsilon_decay": {"uniform": [500, 20000]},
                    "phi": {"choice": [20, 50, 100, 500]}},
         "objective": "median_convergence", "budget": {"min_iterations": 1600, "max_iterations": 1600, "reduction": 3},
         "trials": \(trials), "scheduler": "asha", "sampler": "\(sampler)", "seed": \(seed)\(extra)}
        """
    }

    /// Problem "corner", shaped like the measured convergence of DTEQL at N = 7 (docs/tune.md): iterations to
    /// converge fall with lr and phi and rise with epsilon_decay, so the best point is a corner of the space
    /// (lr = 0.5, epsilon_decay = 500, phi = 500: 60 iterations).
    static func corner(_ s: [String: StudyValue]) -> Double {
        let lr = s["lr"]!.number!, beta = s["beta"]!.number!, phi = s["phi"]!.number!
        return 20 * pow(0.5 / lr, 1.3) * (1 + beta / 250) * pow(500 / phi, 0.4)
    }

    /// Problem "valley": a smooth optimum inside the space, at lr = 0.05, epsilon_decay = 6000, phi = 100,
    /// with a curved valley (lr and epsilon_decay trade off), as a learning rate and an exploration
    /// schedule do when both slow learning down.
    static func valley(_ s: [String: StudyValue]) -> Double {
        let x = log(s["lr"]!.number! / 0.05), y = (s["beta"]!.number! - 6000) / 4000
        let phiPenalty = [20: 3.0, 50: 1.0, 100: 0.0, 500: 2.0][Int(s["phi"]!.number!)]!
        return 10 + 4 * (x + 0.5 * y) * (x + 0.5 * y) + y * y + phiPenalty
    }

    /// Runs a study's sampler against `objective` as if each trial's result came in once it was drawn, as
    /// `tune` does at the first rung, and returns every trial's objective in trial order.
    static func simulate(_ spec: StudySpec, _ objective: ([String: StudyValue]) -> Double) -> [Double] {
        var results: StudyPlan.Results = [:]
        var values = [Double?](repeating: nil, count: spec.trials)
        var known: [Int: [Double]] = [:]
        while values.contains(where: { $0 == nil }) {
            let drawn = spec.trialSettings(results: results, known: &known)
            var progressed = false
            for (trial, settings) in drawn.enumerated() where values[trial] == nil {
                guard let settings else { continue }
                let value = objective(settings)
                values[trial] = value
                results[trial] = [0: RungObjective(value)]
                progressed = true
            }
            precondition(progressed, "the sampler drew nothing new")
        }
        return values.map { $0! }
    }

    @Test func theSameSpecAndResultsGiveTheSameTrialsAndATrialSeesOnlyEarlierBatches() throws {
        let spec = try StudySpec.parse(Self.spec(sampler: "tpe", seed: 4, trials: 30, extra: #", "tpe": {"startup_trials": 6, "batch": 4}"#), source: "s")
        #expect(spec.tpeStartupTrials == 6 && spec.tpeBatch == 4)
        // Before any result: the startup trials only, the same points as a sobol study's first ones.
        let first = spec.trialSettings(results: [:])
        #expect(first.prefix(6).allSatisfy { $0 != nil } && first.dropFirst(6).allSatisfy { $0 == nil })
        let sobol = try StudySpec.parse(Self.spec(sampler: "sobol", seed: 4, trials: 30), source: "s").trialSettings(results: [:])
        #expect(Array(first.prefix(6)) == Array(sobol.prefix(6)))

        var results: StudyPlan.Results = [:]
        for trial in 0..<6 { results[trial] = [0: RungObjective(Self.corner(first[trial]!))] }
        let second = spec.trialSettings(results: results)
        #expect(second.prefix(10).allSatisfy { $0 != nil } && second.dropFirst(10).allSatisfy { $0 == nil })
        #expect(spec.trialSettings(results: results) == second)
        // A result of a trial in the same batch, or a later one, changes nothing already drawn.
        var more = results
        more[7] = [0: RungObjective(1)]
        more[12] = [0: RungObjective(nil)]
        #expect(Array(spec.trialSettings(results: more).prefix(10)) == Array(second.prefix(10)))
        // An earlier batch's result does change the next batch.
        var other = results
        other[2] = [0: RungObjective(0.5)]
        #expect(Array(spec.trialSettings(results: other)[6..<10]) != Array(second[6..<10]))
        // Points drawn once are kept, not drawn again.
        var known: [Int: [Double]] = [:]
        let once = spec.trialSettings(results: results, known: &known)
        #expect(once == second && Set(known.keys) == Set(6..<10))
        // Every drawn value lies in its range.
        let all = spec.trialSettings(results: Dictionary(uniqueKeysWithValues: (0..<30).map { ($0, [0: RungObjective(Double($0 % 7))]) }))
        for settings in all {
            let s = try #require(settings)
            #expect(s["lr"]!.number! >= 0.01 && s["lr"]!.number! <= 0.5)
            #expect(s["beta"]!.number! >= 500 && s["beta"]!.number! <= 20000)
            #expect([20, 50, 100, 500].contains(Int(s["phi"]!.number!)))
        }
    }

    /// A coordinate move is the best trial so far with one setting changed, settings in turn, each axis
    /// filled evenly (van der Corput, shifted).
    @Test func coordinateMovesChangeOneSettingOfTheBestTrialAndFillEachAxis() throws {
        #expect([1, 2, 3, 4, 5].map(StudySpec.vanDerCorput) == [0.5, 0.25, 0.75, 0.125, 0.625])
        let spec = try StudySpec.parse(Self.spec(sampler: "tpe", seed: 2, trials: 70,
                                                 extra: #", "tpe": {"startup_trials": 10, "batch": 4, "coordinate_moves": 2}"#), source: "s")
        // Every trial's result is the corner problem's; the best so far is then known for each batch.
        let values = Self.simulate(spec, Self.corner)
        let settings = spec.trialSettings(results: Dictionary(uniqueKeysWithValues: values.enumerated().map {
            ($0.offset, [0: RungObjective($0.element)])
        }))
        // In each batch of 4 after the 10 startup trials, slots 2 and 3 are moves: they differ from the
        // best earlier trial in at most one setting, the setting the move's turn names.
        var betaMoves: [Double] = []
        for batchStart in stride(from: 10, to: 70, by: 4) {
            let best = (0..<batchStart).min { Self.corner(settings[$0]!) < Self.corner(settings[$1]!) }!
            for slot in 2...3 {
                let move = (batchStart - 10) / 4 * 2 + slot - 2
                let name = spec.search[move % 3].name
                let trial = settings[batchStart + slot]!, incumbent = settings[best]!
                for other in spec.search.map(\.name) where other != name {
                    #expect(trial[other] == incumbent[other], "batch \(batchStart) slot \(slot): \(other)")
                }
                if name == "beta" { betaMoves.append((trial["beta"]!.number! - 500) / 19_500) }
            }
        }
        // The first 7 moves along beta: one in each eighth of its range but one (2^3 - 1 points).
        let eighths = Set(betaMoves.prefix(7).map { Int($0 * 8) })
        #expect(eighths.count == 7, "\(betaMoves)")
    }

    /// A finished tpe study, run in process: every trial's settings in study_trials are those the sampler
    /// draws from the recorded results, and the status read from the database (which does not draw again)
    /// gives the same settings back, number for number.
    @Test func aStudyRecordsTheDrawnTrialsAndItsStatusReadsThemBack() throws {
        let dir = try TemporaryDirectory()
        let spec = try StudySpec.parse("""
            {"name": "small", "n": [5], "frames": 2, "seeds": [1], "algorithm": "dteql",
             "search": {"lr": {"log_uniform": [0.05, 1]}, "epsilon_decay": {"uniform": [50, 3000]}, "phi": {"choice": [5, 10, 20]}},
             "objective": "median_convergence", "budget": {"min_iterations": 200, "max_iterations": 600, "reduction": 3},
             "trials": 12, "sampler": "tpe", "tpe": {"startup_trials": 4, "batch": 2}, "seed": 5, "checkpoint_every": 100}
            """, source: "s")
        let outcome = try StudyRunner(path: dir.path("t.db"), spec: spec, jobs: 2, trackerVersion: "test").run(shouldStop: { false })
        #expect(outcome.complete && outcome.failures.isEmpty)
        let store = try TrackerStore(path: dir.path("t.db"))
        let record = try #require(try store.studyRecord(named: "small"))
        let rungs = try store.studyRungs(record.id)
        let drawn = spec.trialSettings(results: StudyStatus.results(rungs))
        let recorded = try store.studyTrialSettings(record.id)
        #expect(recorded.count == 12)
        for trial in 0..<12 {
            #expect(recorded[trial] == drawn[trial].map(StudyStatus.settingsJSON), "trial \(trial)")
        }
        let status = try StudyStatus.read(spec, study: record.id, in: store)
        #expect(status.complete && status.trials.allSatisfy(\.drawn))
        #expect(status.trials.map(\.settings) == drawn.map { $0! })
    }

    @Test func tpeRefusesItsKeysWithAnotherSampler() throws {
        #expect { try StudySpec.parse(Self.spec(sampler: "sobol", seed: 1, extra: #", "tpe": {"batch": 2}"#), source: "s") }
            throws: { "\($0)".contains("'tpe' applies to \"sampler\": \"tpe\" only") }
        #expect { try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"bach": 2}"#), source: "s") }
            throws: { "\($0)".contains("tpe: unknown key 'bach'") }
        #expect { try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"batch": 0}"#), source: "s") }
            throws: { "\($0)".contains("tpe.batch") }
        // A sobol study's canonical spec has no tpe key, so studies recorded before tpe keep their hash.
        let sobol = try StudySpec.parse(Self.spec(sampler: "sobol", seed: 1), source: "s")
        #expect(!sobol.canonicalJSON.contains("\"tpe\":"))
        #expect(try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1), source: "s").canonicalJSON
            .contains(#""tpe":{"batch":4,"coordinate_moves":2,"multivariate":false,"startup_trials":10}"#))
        #expect { try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"multivariate": 1}"#), source: "s") }
            throws: { "\($0)".contains("'tpe.multivariate' must be true or false, got 1") }
        #expect { try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"coordinate_moves": 5}"#), source: "s") }
            throws: { "\($0)".contains("'tpe.coordinate_moves' must be between 0 and 4, got 5") }
        // The bound and the default follow the batch given in the same object, whatever the keys' order.
        #expect { try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"coordinate_moves": 3, "batch": 2}"#), source: "s") }
            throws: { "\($0)".contains("'tpe.coordinate_moves' must be between 0 and 2, got 3") }
        #expect(try StudySpec.parse(Self.spec(sampler: "tpe", seed: 1, extra: #", "tpe": {"batch": 2}"#), source: "s").tpeCoordinateMoves == 1)
    }

    /// The documented comparison (docs/tune.md "Samplers"): 81 trials per study, seeds 1 to 10, each
    /// problem; `tpe` with its defaults, TPE alone (no coordinate moves) and the joint model alone, against
    /// `random` and `sobol`, on the best objective each study finds. The figures are printed.
    @Test(arguments: ["corner", "valley"]) func tpeBeatsRandomAndSobolOnTheDocumentedProblems(problem: String) throws {
        let objective = problem == "corner" ? Self.corner : Self.valley
        var best: [String: [Double]] = [:]
        for seed in 1...10 {
            for sampler in ["tpe", "tpe-alone", "tpe-multivariate", "random", "sobol"] {
                let extra = [
                    "tpe-alone": #", "tpe": {"coordinate_moves": 0}"#,
                    "tpe-multivariate": #", "tpe": {"multivariate": true, "coordinate_moves": 0}"#,
                ][sampler] ?? ""
                let spec = try StudySpec.parse(Self.spec(sampler: String(sampler.prefix(while: { $0 != "-" })), seed: seed, extra: extra), source: "s")
                best[sampler, default: []].append(Self.simulate(spec, objective).min()!)
            }
        }
        func median(_ values: [Double]) -> Double { let s = values.sorted(); return (s[4] + s[5]) / 2 }
        func wins(_ a: String, _ b: String) -> Int { zip(best[a]!, best[b]!).filter { $0 < $1 }.count }
        print("\(problem): median best " + best.keys.sorted().map { "\($0) \(median(best[$0]!))" }.joined(separator: ", ")
              + "; better than random/sobol on: " + ["tpe", "tpe-alone", "tpe-multivariate"].map {
                  "\($0) \(wins($0, "random"))/\(wins($0, "sobol"))" }.joined(separator: ", ") + " of 10 seeds")
        // Measured (deterministic, docs/tune.md): on corner every form is better on 10 of 10 seeds; on valley,
        // whose optimum couples lr and epsilon_decay, the default (per-setting models, half of each batch
        // coordinate moves) on 9 of 10, TPE alone on 7 of 10, the joint model alone on 10 of 10. Each form
        // must be better on most seeds and in the median.
        for form in ["tpe", "tpe-alone", "tpe-multivariate"] {
            #expect(wins(form, "random") >= 6, "\(form): \(best)")
            #expect(wins(form, "sobol") >= 6, "\(form): \(best)")
            #expect(median(best[form]!) < median(best["random"]!) && median(best[form]!) < median(best["sobol"]!))
        }
    }
}
