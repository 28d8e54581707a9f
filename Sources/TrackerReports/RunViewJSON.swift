import TrackerApp
import TrackerStore

/// ``RunView`` as JSON: the one shape of a run in `run`/`resume`/`show --format json`, `list --format json`
/// rows and `/api/runs`, `/api/runs/ID` (docs/run.schema.json; docs/ui.md, "One shape of a run").
///
/// Identity and status at the top (`run_id`, `status`, ...), then one object per kind of fact:
/// `settings` (canonical names of docs/settings.md), `provenance`, `tags`, `note`, `frame`, `summary`
/// (null until the run finishes; the final Q-table digest is `summary.qtable_sha256`) and `checkpoints`.
/// A listing row carries a subset of these key paths, never another name for the same fact.
extension RunView {
    public static func json(_ value: Value) -> JSON {
        switch value {
        case .null: return .null
        case .integer(let value): return .integer(value)
        case .number(let value): return .number(value)
        case .text(let value): return .string(value)
        case .seed(let value): return seedCell(value)
        }
    }

    public static func settingsJSON(_ settings: [(name: String, value: Value)]) -> JSON {
        .object(settings.map { ($0.name, json($0.value)) })
    }

    public static func tagsJSON(_ tags: [(key: String, value: String)]) -> JSON {
        .object(tags.map { ($0.key, JSON.string($0.value)) })
    }

    /// Everything.
    public var json: JSON {
        .object(identityFields + statusFields + [
            ("non_default_settings", .array(nonDefaultSettings.map(JSON.string))),
            ("settings", Self.settingsJSON(settings)),
            ("provenance", provenance.map { p in .object([
                ("command_line", .string(p.commandLine)), ("working_directory", .string(p.workingDirectory)),
                ("git_commit", .optional(p.gitCommit)), ("git_dirty", p.gitDirty.map(JSON.bool) ?? .null),
                ("host", .string(p.host)), ("user", .string(p.user)), ("os", .string(p.operatingSystem)),
                ("tracker_version", .string(p.trackerVersion)), ("sqlite_version", .string(p.sqliteVersion)),
                ("sweep_name", .optional(p.sweepName)), ("sweep_sha256", .optional(p.sweepSHA256)),
            ]) } ?? .null),
            ("tags", Self.tagsJSON(tags)), ("note", .optional(note)),
            ("frame", frameJSON), ("summary", summaryJSON), ("checkpoints", checkpointsJSON),
        ] + (importDetails.map { details in
            [("import", JSON.object([
                ("format", .string(details.format)), ("source", .string(details.source)),
                ("provenance", .string(details.provenance)),
            ]))]
        } ?? []))
    }

    var identityFields: [(String, JSON)] {
        [
            ("run_id", .string(record.runID)), ("algorithm", .string(record.algorithmName)),
            ("origin", .string(record.isImported ? "imported" : "tracker")),
            ("n", .integer(record.n)), ("seed", seedCell(record.seed)), ("config_hash", .string(record.configHash)),
            ("label", .optional(record.label)), ("labels", .array(labels.map(JSON.string))),
        ]
    }

    var statusFields: [(String, JSON)] {
        [
            ("status", .string(record.displayStatus)), ("resumable", .bool(record.isResumable)),
            ("iterations", .integer(record.doneIterations)), ("planned_iterations", .integer(record.plannedIterations)),
            ("elapsed_seconds", .number(record.elapsedSeconds)), ("eta_seconds", .optional(etaSeconds)),
            ("created_at", .string(record.createdAt)), ("started_at", .optional(record.startedAt)),
            ("finished_at", .optional(record.finishedAt)), ("heartbeat_at", .optional(record.heartbeatAt)),
            ("host", .string(record.host)), ("pid", .optional(record.pid)),
            ("tracker_version", .string(record.trackerVersion)), ("error", .optional(record.error)),
        ]
    }

    var frameJSON: JSON {
        .object([
            ("frame_id", .integer(Int(frame.frameID))), ("source", .string(frame.source == .file ? "file" : "generated")),
            ("seed", seedCell(frameSeed)), ("optimal_objective", .optional(frame.optimalObjective)),
            ("optimal_order", optimalOrder.map(JSON.order) ?? .null), ("edf_objective", .number(frame.edfObjective)),
            ("tasks", .array(frame.frame.tasks.map {
                .object([("data_bits", .number($0.dataBits)), ("deadline_s", .number($0.deadlineSeconds)),
                         ("cycles_per_bit", .number($0.cyclesPerBit))])
            })),
        ])
    }

    var summaryJSON: JSON {
        guard let summary else { return .null }
        return .object([
            ("objective", .number(summary.objective)), ("order", .order(summary.greedyOrder)),
            ("normalized_reward", .number(summary.normalizedReward)), ("optimality_ratio", .optional(summary.optimalityRatio)),
            ("misses", .integer(summary.misses)), ("mean_completion_s", .number(summary.meanCompletionSeconds)),
            ("iterations_to_optimal", .optional(summary.iterationsToOptimal)),
            ("stable_iteration", .integer(summary.stableIteration)), ("distinct_actions", .integer(summary.distinctActions)),
            ("wall_seconds", .number(summary.wallSeconds)), ("iterations_per_second", .number(summary.iterationsPerSecond)),
            // An imported run has no Q-table: null, not an empty digest.
            ("qtable_sha256", summary.qTableSHA256.isEmpty ? .null : .string(summary.qTableSHA256)),
        ])
    }

    var checkpointsJSON: JSON {
        .object([
            ("count", .integer(checkpoints.count)), ("bytes", .integer(checkpoints.reduce(0) { $0 + $1.bytes })),
            ("newest_iteration", .optional(checkpoints.last?.iteration)),
            ("items", .array(checkpoints.map {
                .object([("iteration", .integer($0.iteration)), ("bytes", .integer($0.bytes)),
                         ("layout_version", .integer($0.layoutVersion)), ("sha256", .string($0.sha256)),
                         ("created_at", .string($0.createdAt))])
            })),
        ])
    }

    /// A row of `/api/runs` (the dashboard's runs page): the view's key paths that the listing query
    /// (`tracker list`'s rows, ``ListedRun``) has.
    public static func row(_ run: ListedRun) -> JSON {
        let record = run.record
        // The listing has no summary row of its own: a normalized reward is there exactly when one is.
        let summary: JSON = run.normalizedReward == nil ? .null : .object([
            ("normalized_reward", .optional(run.normalizedReward)), ("optimality_ratio", .optional(run.optimalityRatio)),
            ("iterations_to_optimal", .optional(run.iterationsToOptimal)),
        ])
        return .object([
            ("run_id", .string(record.runID)), ("algorithm", .string(record.algorithmName)),
            ("origin", .string(record.isImported ? "imported" : "tracker")),
            ("n", .integer(record.n)), ("seed", seedCell(record.seed)), ("label", .optional(record.label)),
            ("status", .string(record.displayStatus)),
            ("iterations", .integer(record.doneIterations)), ("planned_iterations", .integer(record.plannedIterations)),
            ("elapsed_seconds", .number(record.elapsedSeconds)), ("eta_seconds", .optional(eta(record))),
            ("created_at", .string(record.createdAt)),
            ("non_default_settings", .array(run.nonDefaultSettings.map(JSON.string))),
            ("settings", settingsJSON(record.isImported
                ? importedSettings(record: record, run.importedSettings)
                : settings(record: record, hyperparameters: run.hyperparameters, model: nil))),
            ("tags", tagsJSON(run.tags)), ("summary", summary),
        ])
    }
}

extension JSON {
    /// An object from key paths (`["summary", "objective"]`), nested in the order the paths first appear;
    /// a path whose parent is null (`summary` of an unfinished run) is left out under it.
    public static func nested(_ paths: [([String], JSON)]) -> JSON {
        var keys: [String] = []
        var leaves: [String: JSON] = [:]
        var children: [String: [([String], JSON)]] = [:]
        for (path, value) in paths {
            guard let head = path.first else { continue }
            if !keys.contains(head) { keys.append(head) }
            if path.count == 1 {
                leaves[head] = value
            } else {
                children[head, default: []].append((Array(path.dropFirst()), value))
            }
        }
        return .object(keys.map { key in
            if let leaf = leaves[key] { return (key, leaf) }
            return (key, nested(children[key] ?? []))
        })
    }
}
