import TrackerApp

/// A study's status as JSON: what `tracker tune SPEC --status --format json` prints and the dashboard's
/// `/api/study?name=` answers, one code for both (docs/tune.md describes every key).
public enum StudyStatusJSON {
    public static func value(_ value: StudyValue) -> JSON {
        switch value {
        case .number(let v): return .number(v)
        case .integer(let v): return .integer(v)
        case .text(let v): return .string(v)
        }
    }

    /// `tune --status --format json`: docs/tune.md describes every key.
    public static func status(_ status: StudyStatus) -> JSON {
        // null for a trial whose settings a model-based sampler has not drawn yet.
        func settings(_ trial: StudyStatus.Trial) -> JSON {
            guard trial.drawn else { return .null }
            return .object(trial.settings.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) })
        }
        let spec = status.spec
        return .object([
            ("study", .string(spec.name)), ("objective_name", .string(spec.objective.rawValue)),
            ("direction", .string(spec.direction.rawValue)), ("scheduler", .string(spec.scheduler.rawValue)),
            ("sampler", .string(spec.sampler.rawValue)), ("rungs", .array(status.plan.rungs.map { .integer($0) })),
            ("complete", .bool(status.complete)),
            ("trial_rungs_done", .integer(status.trialRungsDone)), ("trial_rungs_total", .integer(status.trialRungsTotal)),
            ("iterations_spent", .integer(status.iterationsSpent)),
            ("best", status.best.map { best in
                .object([("trial", .integer(best.index)), ("settings", settings(best)),
                         ("objective", best.objective.map { .number($0) } ?? .null), ("budget", best.budget.map { .integer($0) } ?? .null),
                         ("runs", .array(best.runIDs.map { .string($0) }))])
            } ?? .null),
            ("trials", .array(status.trials.map { trial in
                .object([("trial", .integer(trial.index)), ("settings", settings(trial)),
                         ("objective", trial.objective.map { .number($0) } ?? .null),
                         ("budget", trial.budget.map { .integer($0) } ?? .null), ("rung", trial.rung.map { .integer($0) } ?? .null),
                         ("state", .string(trial.state)), ("iterations", .integer(trial.iterations)),
                         ("runs", .array(trial.runIDs.map { .string($0) }))])
            })),
        ])
    }
}
