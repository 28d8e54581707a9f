import Foundation
import PackagePlugin

/// Runs `EmbedSQL` over the package's top-level `migrations/`, `queries/` and `sweeps/` folders, producing one Swift
/// file in the build directory. The files stay the only copy of the SQL and of the built-in sweep specs, and the built binary needs
/// no resource bundle, so it runs from any working directory.
@main
struct EmbedSQLPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let packageDirectory = context.package.directoryURL
        var inputs: [URL] = []
        for (folder, suffix) in [("migrations", ".sql"), ("queries", ".sql"), ("sweeps", ".json")] {
            let directory = packageDirectory.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            inputs += names.filter { $0.hasSuffix(suffix) }.sorted().map { directory.appendingPathComponent($0) }
        }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding migrations and saved queries",
                executable: try context.tool(named: "EmbedSQL").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
