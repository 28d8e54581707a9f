import ArgumentParser
import TrackerReports
import TrackerApp
import TrackerStore

/// `tracker show`: one run's settings, frame, status, checkpoints and summary.
public struct ShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one run: hyperparameters, provenance, tags and note, frame, status, checkpoints and summary."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Option(help: "Output format.")
    var format: ReportFormat = .table

    @Flag(help: "List every checkpoint in the table output (by default only their count, bytes and newest iteration).")
    var checkpoints = false

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readOnly)
        // One read of the run (RunView), from one snapshot while a live run writes; the JSON is that view,
        // the tables show the same facts.
        let view = try store.reading { try RunView.build(runID, in: store) }
        let record = view.record, h = view.hyperparameters, frame = view.frame, checkpoints = view.checkpoints
        let checkpointSummary: [(String, JSON)] = [
            ("count", .integer(checkpoints.count)), ("bytes", .integer(checkpoints.reduce(0) { $0 + $1.bytes })),
            ("newest_iteration", .optional(checkpoints.last?.iteration)),
        ]
        let report = runReport(record, summary: view.summary, frame: frame)
        let params: [(String, JSON)]
        if record.isImported {
            // The settings its file gave (RunView.settings), under the file's keys, plus the learner seed.
            params = view.settings.map { ($0.name, RunView.json($0.value)) } + [("seed", seedCell(record.seed))]
        } else {
            let twin = h.twin.parameters
            params = [
                ("algorithm", .string(h.algorithm.rawValue)), ("phi", .integer(record.phi)), ("delta", .integer(h.delta)),
                ("aggregation", .string(h.aggregation.rawValue)),
                ("iterations", .integer(record.plannedIterations)), ("seed", seedCell(h.seed)),
                ("learning_rate", .number(h.learningRate)), ("discount", .number(h.discount)),
                ("epsilon_start", .number(h.epsilonStart)), ("epsilon_min", .number(h.epsilonMin)),
                ("epsilon_decay", .number(h.epsilonDecay)), ("reward", .string(h.reward.rawValue)),
                ("twin_uplink_rate", .optional(twin?.uplinkRate)), ("twin_cpu_hz", .optional(twin?.cpuHz)),
                ("twin_zeta", .optional(twin?.zeta)), ("twin_noise", .number(h.twin.noise)),
                ("twin_noise_seed", seedCell(h.twin.noiseSeed)),
            ].filter { SettingVocabulary.algorithm(h.algorithm, uses: $0.0) }  // no phi for QL, delta only for DTAQL
        }
        let frameSeed: JSON
        switch frame.source {
        case .generated(let seed): frameSeed = seedCell(seed)
        case .file: frameSeed = .null
        }
        let frameFields: [(String, JSON)] = [
            ("frame_id", .integer(Int(frame.frameID))), ("n", .integer(frame.frame.count)),
            ("source", .string(frame.source == .file ? "file" : "generated")), ("seed", frameSeed),
            ("uplink_rate", .number(frame.frame.parameters.uplinkRate)), ("cpu_hz", .number(frame.frame.parameters.cpuHz)),
            ("zeta", .number(frame.frame.parameters.zeta)), ("optimal_objective", .optional(frame.optimalObjective)),
            ("edf_objective", .number(frame.edfObjective)),
        ]
        let checkpointTable = Table(
            columns: ["iteration", "bytes", "layout_version", "sha256", "created_at"],
            rows: checkpoints.map {
                [.integer($0.iteration), .integer($0.bytes), .integer($0.layoutVersion), .string($0.sha256), .string($0.createdAt)]
            })
        let runFields: [(String, JSON)] = [
            ("created_at", .string(record.createdAt)), ("started_at", .optional(record.startedAt)),
            ("finished_at", .optional(record.finishedAt)), ("heartbeat_at", .optional(record.heartbeatAt)),
            ("elapsed_seconds", .number(record.elapsedSeconds)), ("resumable", .bool(record.isResumable)),
            ("host", .string(record.host)), ("pid", .optional(record.pid)),
            ("tracker_version", .string(record.trackerVersion)), ("config_hash", .string(record.configHash)),
            ("error", .optional(record.error)), ("origin", .string(record.isImported ? "imported" : "tracker")),
        ]
        let importFields: [(String, JSON)] = view.importDetails.map { details in [
            ("format", .string(details.format)), ("source", .string(details.source)),
            ("provenance", .string(details.provenance)),
        ] } ?? []
        let provenance = view.provenance
        let provenanceFields: [(String, JSON)]? = provenance.map { p in [
            ("command_line", .string(p.commandLine)), ("working_directory", .string(p.workingDirectory)),
            ("git_commit", .optional(p.gitCommit)), ("git_dirty", p.gitDirty.map(JSON.bool) ?? .null),
            ("host", .string(p.host)), ("user", .string(p.user)), ("os", .string(p.operatingSystem)),
            ("tracker_version", .string(p.trackerVersion)), ("sqlite_version", .string(p.sqliteVersion)),
            ("sweep_name", .optional(p.sweepName)), ("sweep_sha256", .optional(p.sweepSHA256)),
        ] }
        let tags = view.tags, note = view.note
        // Every study the run belongs to: its own label and those of the sweeps that adopted it (run_labels).
        let labels = view.labels
        switch format {
        case .json:
            // The run's one view (docs/run.schema.json), as `run --format json` and /api/runs/ID give it.
            try StandardOutput.print(view.json.serialized(pretty: true))
        case .table:
            try StandardOutput.print(Record(fields: report.fields + runFields + [("labels", .string(labels.joined(separator: ", ")))]).render(.table))
            try StandardOutput.print("Hyperparameters")
            try StandardOutput.print(Record(fields: params).render(.table))
            if record.isImported {
                try StandardOutput.print("Imported (tracker import: no Q-table, no checkpoints)")
                try StandardOutput.print(Record(fields: importFields).render(.table))
            }
            try StandardOutput.print("Provenance")
            try StandardOutput.print(provenanceFields.map { Record(fields: $0).render(.table) }
                ?? "(not recorded: the run predates schema version 4)\n")
            try StandardOutput.print("Tags")
            // Record's table form escapes what was typed (terminalEscaped).
            try StandardOutput.print(tags.isEmpty ? "(none)\n" : Record(fields: tags.map { ($0.key, JSON.string($0.value)) }).render(.table))
            try StandardOutput.print("Note")
            try StandardOutput.print(Record(fields: [("note", .optional(note))]).render(.table))
            try StandardOutput.print("Frame")
            try StandardOutput.print(Record(fields: frameFields).render(.table))
            try StandardOutput.print(frameTable(frame.frame).render(ListingFormat.table))
            try StandardOutput.print("Checkpoints")
            // A long run without retention can hold thousands; the summary is what one usually wants.
            if self.checkpoints {
                try StandardOutput.print(checkpointTable.render(ListingFormat.table), terminator: "")
            } else {
                try StandardOutput.print(Record(fields: checkpointSummary).render(.table), terminator: "")
            }
        }
    }
}
