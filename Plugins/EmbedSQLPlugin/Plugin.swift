import Foundation
import PackagePlugin

/// Runs `EmbedSQL` over the package's top-level `migrations/` and `queries/` folders, producing one Swift
/// file in the build directory. The .sql files stay the only copy of the SQL, and the built binary needs
/// no resource bundle, so it runs from any working directory.
@main
struct EmbedSQLPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let packageDirectory = context.package.directoryURL
        var inputs: [URL] = []
        for folder in ["migrations", "queries"] {
            let directory = packageDirectory.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            inputs += names.filter { $0.hasSuffix(".sql") }.sorted().map { directory.appendingPathComponent($0) }
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
