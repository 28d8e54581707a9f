import Foundation
import Hummingbird
import Learning
import TrackerStore

/// `/side-by-side?run=A&run=B...` (2 to 10 runs ticked on the runs page): their normalized-reward curves
/// overlaid in one interactive chart, their settings in one table (rows that differ highlighted), their
/// schedules stacked.
extension Pages {
    struct SideRun {
        let record: RunRecord
        let hyperparameters: Hyperparameters
        let summary: RunSummary?
    }

    func sideBySide(_ form: Form) throws -> Response {
        let ids = try Self.sideBySideIDs(form)
        let runs = try withStore { store in
            try ids.map { id -> SideRun in
                let record = try store.run(id)
                return SideRun(record: record, hyperparameters: try store.hyperparameters(of: record),
                               summary: try store.summary(ofRun: record.id))
            }
        }
        let query = queryString(runs.map { ("run", $0.record.runID) })
        var body = "<p class=\"downloads\"><a href=\"/compare\(escapeHTML(query))\">Compare these runs as tables</a></p>\n"
        body += "<section class=\"wide\"><h2>Normalized reward</h2>"
            + interactiveChart(id: "overlay-chart", source: "/api/overlay" + query, fallback: nil, alt: "normalized reward of each run")
            + "</section>\n"
        body += "<section class=\"wide\"><h2>Settings</h2><p>Rows where the runs differ are highlighted; "
            + "a setting a run's algorithm does not use is blank.</p>" + Self.settingsDiff(runs) + "</section>\n"
        body += "<section class=\"wide\"><h2>Schedules</h2>"
        for run in runs {
            let id = escapeQueryValue(run.record.runID)
            body += "<h3><a href=\"/runs/\(id)\">\(escapeHTML(run.record.runID))</a> \(escapeHTML(run.record.algorithm.rawValue))"
                + "\(run.record.label.map { " · " + escapeHTML($0) } ?? "")</h3>"
                + "<img class=\"chart\" src=\"/runs/\(id)/schedule.svg\" alt=\"schedule of run \(escapeHTML(run.record.runID))\">"
        }
        body += "</section>\n"
        return Self.htmlResponse(HTMLPage(title: "\(runs.count) runs side by side", body: body, section: .runs).render())
    }

    /// One row per setting and result, one column per run; a row whose values are not all equal gets
    /// class `differs`. Settings by their vocabulary names, blank where the algorithm does not use one.
    static func settingsDiff(_ runs: [SideRun]) -> String {
        func setting(_ column: String, _ value: (Hyperparameters) -> String) -> (String, [String]) {
            (SettingVocabulary.canonical(column), runs.map { run in
                SettingVocabulary.algorithm(run.hyperparameters.algorithm, uses: column) ? value(run.hyperparameters) : ""
            })
        }
        let rows: [(String, [String])] = [
            ("algorithm", runs.map { $0.record.algorithm.rawValue }),
            ("N", runs.map { String($0.record.n) }),
            ("phi", runs.map { SettingVocabulary.algorithm($0.record.algorithm, uses: "phi") ? String($0.record.phi) : "" }),
            ("learner seed", runs.map { String($0.record.seed) }),
            ("frame", runs.map { String($0.record.frameID) }),
            ("iterations (budget)", runs.map { String($0.record.plannedIterations) }),
            setting("delta") { String($0.delta) },
            setting("learning_rate") { formatNumber($0.learningRate) },
            setting("discount") { formatNumber($0.discount) },
            setting("epsilon_start") { formatNumber($0.epsilonStart) },
            setting("epsilon_min") { formatNumber($0.epsilonMin) },
            setting("epsilon_decay") { formatNumber($0.epsilonDecay) },
            setting("reward") { $0.reward.rawValue },
            setting("twin_noise") { formatNumber($0.twin.noise) },
            ("label", runs.map { $0.record.label ?? "" }),
            ("status", runs.map { $0.record.displayStatus }),
            ("iterations done", runs.map { String($0.record.doneIterations) }),
            ("J*/J", runs.map { formatNumber($0.summary?.optimalityRatio) }),
            ("normalized reward", runs.map { formatNumber($0.summary?.normalizedReward) }),
            ("optimal from iteration", runs.map { run in
                run.summary.map { $0.iterationsToOptimal.map(String.init) ?? "never" } ?? ""
            }),
        ]
        var markup = "<table id=\"settings-diff\"><thead><tr><th></th>"
        for run in runs {
            markup += "<th><a href=\"/runs/\(escapeQueryValue(run.record.runID))\">\(escapeHTML(run.record.runID))</a></th>"
        }
        markup += "</tr></thead><tbody>\n"
        for (name, values) in rows {
            let differs = Set(values).count > 1
            markup += "<tr\(differs ? " class=\"differs\"" : "")><th>\(escapeHTML(name))</th>"
                + values.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>\n"
        }
        return markup + "</tbody></table>\n"
    }
}

/// A long digest shortened to its first 12 characters, the full value on hover (`title`) and a copy button.
func digestMarkup(_ digest: String, id: String? = nil) -> String {
    let full = escapeHTML(digest)
    let shown = digest.count > 16 ? escapeHTML(String(digest.prefix(12))) + "…" : full
    return "<code class=\"digest\"\(id.map { " id=\"\($0)\"" } ?? "") title=\"\(full)\">\(shown)</code>"
        + (digest.count > 16 ? " <button type=\"button\" class=\"copy\" data-copy=\"\(full)\">copy</button>" : "")
}
