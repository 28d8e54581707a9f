import Foundation
import Learning
import Scheduling
import TrackerStore

/// One run as every front end shows it: identity, settings, provenance, tags, note, frame, status,
/// summary and checkpoints. `run`/`resume`/`show --format json`, `list --format json`'s rows and the
/// dashboard's `/api/runs` and `/api/runs/ID` all serialize this one value (TrackerReports' `RunView.json`),
/// so a fact has one key path everywhere; docs/run.schema.json is its shape.
///
/// An application-layer view: it reads through TrackerStore's public API only and holds no SQL.
public struct RunView {
    /// A setting's value, before it becomes JSON or text: seeds stay `UInt64` (JSON prints one above
    /// `Int.max` as a string).
    public enum Value: Equatable, Sendable {
        case null
        case integer(Int)
        case number(Double)
        case text(String)
        case seed(UInt64)
    }

    public let record: RunRecord
    public let hyperparameters: Hyperparameters
    public let frame: StoredFrame
    public let optimalOrder: [Int]?
    public let summary: RunSummary?
    public let checkpoints: [CheckpointInfo]
    /// How the run was started; nil for a run recorded before schema version 4.
    public let provenance: Provenance?
    /// By key.
    public let tags: [(key: String, value: String)]
    public let note: String?
    /// Every study the run belongs to: its own label and those of the sweeps that adopted it.
    public let labels: [String]
    /// An imported run's own settings (`tracker import`, run_import_settings): they stand in for
    /// `hyperparameters`, which are then a placeholder never shown. Empty for every other run.
    public let importedSettings: [Setting]
    /// Where an imported run came from (the file's format, the file, the provenance it declared); nil
    /// for every other run.
    public let importDetails: (format: String, source: String, provenance: String)?

    /// Reads the view of `record`; `frame` saves reading the run's frame again where the caller has it.
    public static func build(_ record: RunRecord, in store: TrackerStore, frame: StoredFrame? = nil) throws -> RunView {
        // An imported run has no run_params row: a placeholder stands in, never shown (``settings``).
        let imported = record.isImported
        return RunView(
            record: record,
            hyperparameters: imported ? Hyperparameters(algorithm: .ql) : try store.hyperparameters(of: record),
            frame: try frame ?? store.loadFrame(id: record.frameID),
            optimalOrder: try store.optimalOrder(ofFrame: record.frameID),
            summary: try store.summary(ofRun: record.id), checkpoints: try store.checkpoints(ofRun: record.id),
            provenance: try store.provenance(ofRun: record.id),
            tags: try store.tags(ofRun: record.id).sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            note: try store.note(ofRun: record.id), labels: try store.labels(ofRun: record.id),
            importedSettings: imported ? try store.importedSettingsByRun()[record.id] ?? [] : [],
            importDetails: imported ? try store.importDetails(ofRun: record.id) : nil)
    }

    /// The view of the run `idOrPrefix` names (a unique prefix is enough; unknown or ambiguous ids throw
    /// the store's errors).
    public static func build(_ idOrPrefix: String, in store: TrackerStore) throws -> RunView {
        try build(try store.run(idOrPrefix), in: store)
    }

    /// Every setting of the vocabulary the run's algorithm uses, under its canonical name, in the
    /// vocabulary's order (no phi for QL, delta and aggregation only for DTAQL).
    public var settings: [(name: String, value: Value)] {
        if record.isImported { return Self.importedSettings(record: record, importedSettings) }
        return Self.settings(record: record, hyperparameters: hyperparameters, model: frame.frame.parameters)
    }

    /// An imported run's settings: its algorithm's name, N, phi and budget as recorded, then the ones its
    /// file gave, under the file's keys.
    public static func importedSettings(record: RunRecord, _ settings: [Setting]) -> [(name: String, value: Value)] {
        var result: [(name: String, value: Value)] = [
            ("algorithm", .text(record.algorithmName)), ("n", .integer(record.n)), ("phi", .integer(record.phi)),
            ("iterations", .integer(record.plannedIterations)),
        ]
        for setting in settings where !result.contains(where: { $0.name == setting.key }) {
            switch setting.value {
            case .null: result.append((setting.key, .null))
            case .integer(let value): result.append((setting.key, .integer(Int(value))))
            case .real(let value): result.append((setting.key, .number(value)))
            case .text(let value): result.append((setting.key, .text(value)))
            }
        }
        return result
    }

    /// The settings of a run from its record, its hyperparameters and, when known, its frame's model
    /// constants (a listing row may not have them: then rate, cpu_hz and zeta are left out).
    public static func settings(record: RunRecord, hyperparameters h: Hyperparameters, model: ModelParameters?)
        -> [(name: String, value: Value)]
    {
        let twin = h.twin.parameters
        func optional(_ value: Double?) -> Value { value.map(Value.number) ?? .null }
        var result: [(name: String, value: Value)] = []
        for setting in SettingVocabulary.settings where setting.uses(h.algorithm) {
            let value: Value?
            switch setting.name {
            case "algorithm": value = .text(h.algorithm.rawValue)
            case "n": value = .integer(record.n)
            case "phi": value = .integer(record.phi)
            case "iterations": value = .integer(record.plannedIterations)
            case "rate": value = model.map { .number($0.uplinkRate) }
            case "cpu_hz": value = model.map { .number($0.cpuHz) }
            case "zeta": value = model.map { .number($0.zeta) }
            case "delta": value = .integer(h.delta)
            case "lr": value = .number(h.learningRate)
            case "gamma": value = .number(h.discount)
            case "eps_start": value = .number(h.epsilonStart)
            case "eps_min": value = .number(h.epsilonMin)
            case "beta": value = .number(h.epsilonDecay)
            case "reward": value = .text(h.reward.rawValue)
            case "twin_rate": value = optional(twin?.uplinkRate)
            case "twin_cpu_hz": value = optional(twin?.cpuHz)
            case "twin_zeta": value = optional(twin?.zeta)
            case "twin_noise": value = .number(h.twin.noise)
            case "twin_noise_seed": value = .seed(h.twin.noiseSeed)
            case "aggregation": value = .text(h.aggregation.rawValue)
            default: value = nil  // a setting the vocabulary gains later shows once it is given a value here
            }
            if let value { result.append((setting.name, value)) }
        }
        return result
    }

    /// The settings that differ from `tracker run`'s defaults, as `name=value` (model constants included).
    public var nonDefaultSettings: [String] {
        if record.isImported { return ["imported"] + importedSettings.map { "\($0.key)=\($0.value)" } }
        return ListedRun.nonDefaultSettings(hyperparameters, model: frame.frame.parameters)
    }

    /// Seconds left at the rate so far, for a live run that has done some iterations.
    public var etaSeconds: Double? { Self.eta(record) }

    public static func eta(_ record: RunRecord) -> Double? {
        guard record.status == .running, !record.isAbandoned, record.doneIterations > 0, record.elapsedSeconds > 0 else {
            return nil
        }
        let rate = Double(record.doneIterations) / record.elapsedSeconds
        return Double(record.plannedIterations - record.doneIterations) / rate
    }

    /// The seed of the generated frame; nil for a task file.
    public var frameSeed: UInt64? {
        if case .generated(let seed) = frame.source { return seed }
        return nil
    }
}
