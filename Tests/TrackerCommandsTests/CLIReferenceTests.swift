import Foundation
import Testing

/// docs/cli.md is generated from `tracker help`; this fails when a command or option changed without the
/// reference being regenerated (`scripts/cli-reference.sh`), so every subcommand stays documented.
@Suite struct CLIReferenceTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everySubcommandIsDocumentedWithItsCurrentHelp() throws {
        let document = try String(contentsOf: Self.repository.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        let root = try CLI.run(["--help"], environment: ["COLUMNS": "100"])
        #expect(root.status == 0)
        let subcommands = root.stdout
            .components(separatedBy: "SUBCOMMANDS:").last?
            .split(separator: "\n")
            .filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isLowercase == true }
            .compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
        #expect(subcommands.count >= 15)
        #expect(document.contains(root.stdout), "docs/cli.md is stale: run scripts/cli-reference.sh")
        for name in subcommands {
            let help = try CLI.run(["help", name], environment: ["COLUMNS": "100"])
            #expect(help.status == 0)
            #expect(document.contains("## tracker \(name)\n"), "docs/cli.md lacks \(name)")
            #expect(document.contains(help.stdout), "docs/cli.md is stale for \(name): run scripts/cli-reference.sh")
        }
    }
}
