import Foundation
import Learning
import Scheduling
import TrackerReports
import TrackerApp
import TrackerStore

/// A recorded study, read back from its canonical spec and its rung results.
func loadStudy(_ name: String, in store: TrackerStore) throws -> StudyStatus {
    guard let status = try StudyStatus.load(name, in: store) else {
        let names = try store.studyNames()
        throw CommandFailure("no study named \(name) in this database"
            + (names.isEmpty ? " (it holds none; `tracker tune SPEC` records one)" : " (studies: \(names.prefix(20).joined(separator: ", ")))"))
    }
    return status
}

/// `compare --study`: the runs of the study's best `top` trials, each at the highest rung it reached, and
/// the runs of the paper's defaults (the learners' default settings, without the study's `fixed`) on the
/// same frames and seeds at the study's top budget, where those are recorded. Whether it is one N (Table I).
func studyComparison(_ name: String, top: Int, in store: TrackerStore) throws -> (rows: [CompareRun], singleN: Bool) {
    let status = try loadStudy(name, in: store)
    let spec = status.spec
    let ranked = status.trials.filter { $0.rung != nil }.sorted { a, b in
        a.rung != b.rung ? a.rung! > b.rung! : StudyPlan.better((a.index, a.objective), (b.index, b.objective), direction: spec.direction)
    }
    guard !ranked.isEmpty else { throw CommandFailure("study \(name) has no results yet (tracker tune SPEC runs it)") }
    var wanted = Set(ranked.prefix(top).flatMap(\.runIDs))
    var defaults = 0
    for position in spec.positions {
        let frame = FrameGenerator.generate(count: position.n, seed: position.frameSeed, parameters: spec.model)
        let specification = RunSpecification(
            frame: frame, frameSource: .generated(seed: position.frameSeed),
            hyperparameters: Hyperparameters(algorithm: spec.algorithm, iterations: spec.maxIterations, seed: position.seed),
            trackerVersion: "")
        if let run = try store.runs(configHash: specification.configHash).first(where: { $0.status == .finished }) {
            wanted.insert(run.runID)
            defaults += 1
        }
    }
    if defaults < spec.positions.count {
        StandardError.write("note: \(defaults) of the \(spec.positions.count) runs of the paper's defaults at \(spec.maxIterations) iterations "
            + "on the study's frames and seeds are recorded; run the rest (tracker run/sweep) to see the defaults complete beside the trials\n")
    }
    var rows: [CompareRun] = []
    for n in spec.taskCounts {
        rows += try store.compareRuns(CompareFilter(n: n)).filter { wanted.contains($0.runID) }
    }
    return (rows, spec.taskCounts.count == 1)
}

/// `plot --study`: objective against budget, one line per trial (log x), or with `by` a searched setting,
/// objective against that setting, one line per rung (the trials with a result there, by the setting).
func studyChart(_ name: String, by: String?, in store: TrackerStore) throws -> LineChart {
    let status = try loadStudy(name, in: store)
    let spec = status.spec
    let records = try store.studyRecord(named: name).map { try store.studyRungs($0.id) } ?? []
    let objective = spec.objective.rawValue
    guard let by else {
        let series = Dictionary(grouping: records, by: \.trial).sorted { $0.key < $1.key }.compactMap { trial, rungs -> LineChart.Series? in
            let points = rungs.sorted { $0.rung < $1.rung }.compactMap { r in r.objective.map { LineChart.Point(x: Double(r.budget), y: $0) } }
            return points.isEmpty ? nil : LineChart.Series(name: "trial \(trial)", points: points)
        }
        guard !series.isEmpty else { throw CommandFailure("study \(name) has no objective values to plot yet") }
        return LineChart(title: "\(name): \(objective) by budget", xLabel: "budget (iterations)", yLabel: objective,
                         xScale: .logarithmic, series: series)
    }
    let key = SettingVocabulary.canonical(RunTags.normalizedSettingKey(by))
    guard let searched = spec.search.first(where: { $0.name == key }) else {
        throw CommandFailure("--by \(by): study \(name) searches \(spec.search.map(\.name).joined(separator: ", ")), not \(by)")
    }
    // The trials' settings as the status read them (a tpe study's from study_trials, not drawn again).
    let samples = status.trials.map { $0.drawn ? $0.settings : nil }
    var series: [LineChart.Series] = []
    for (rung, budget) in spec.rungs.enumerated() {
        let points = records.filter { $0.rung == rung }.compactMap { record -> LineChart.Point? in
            guard let y = record.objective, let x = samples[record.trial]?[key]?.number else { return nil }
            return LineChart.Point(x: x, y: y)
        }.sorted { $0.x < $1.x }
        if !points.isEmpty { series.append(LineChart.Series(name: "rung \(rung) (\(budget) iterations)", points: points)) }
    }
    guard !series.isEmpty else {
        throw CommandFailure("study \(name) has no objective values against \(key) to plot (a named setting such as reward has no axis)")
    }
    var logarithmic = false
    if case .logUniform = searched.distribution { logarithmic = true }
    return LineChart(title: "\(name): \(objective) by \(key)", xLabel: key, yLabel: objective,
                     xScale: logarithmic ? .logarithmic : .linear, series: series)
}
