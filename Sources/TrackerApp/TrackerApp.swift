// Module TrackerApp: the application layer, under both front ends (TrackerCommands and TrackerWeb).
//
// Owns the recording pipeline (RunSession: a session's learner loop, its RecordingWriter thread, its
// Heartbeat and WALCheckpointer threads), sweeps and their specs (Sweep, SweepSpec, SweepStatus),
// ShardPublisher's publishing schedule, comparison and statistics (CompareTable, Statistics, convergence
// curves), and the views both front ends share (RunHistory: a run's curve).
//
// Uses TrackerStore only through its public API, as if from another package: no SQL text, no
// use of the SQLite module, no `TrackerStore.database` (the heartbeat and checkpointer threads open their own
// connections as TrackerStore's SessionConnection).
// Must not parse arguments, print, or serve HTTP.
