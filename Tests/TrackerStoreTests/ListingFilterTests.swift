import Foundation
import Learning
import SQLite
import Testing
import TestSupport
import TrackerApp
@testable import TrackerStore

/// `--where` is a condition of the listing SQL (RunFilter.whereClause), which has to list every setting
/// by hand (a column name cannot be bound): it must select exactly the runs the settings' own matcher
/// (`RunSettings.matches`, what compare and plot use) selects, for every setting of every run.
@Suite(.serialized) struct ListingFilterTests {
    @Test func theListingSQLSelectsWhatTheSettingMatcherSelectsForEverySetting() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-listing-filter")
        let store = try ConfigurationTests.makeUnlikeRuns(in: dir)
        let keys = try store.settingKeys()
        #expect(Set(keys).isSubset(of: RunFilter.keysInSQL), "settings the listing SQL lacks: \(Set(keys).subtracting(RunFilter.keysInSQL))")

        let settings = try store.runSettings()
        #expect(settings.count >= 5)
        var checked = 0
        for run in settings.values {
            for setting in run.all {
                for value in [setting.value.description, "none", "0.9", "1500"] {
                    let condition = SettingCondition(key: setting.key, value: value)
                    let expected = Set(settings.values.filter { $0.matches([condition]) }.map(\.runID))
                    let listed = Set(try store.listRuns(matching: RunFilter(conditions: [condition])).map(\.record.runID))
                    #expect(listed == expected, "\(setting.key)=\(value)")
                    checked += 1
                }
            }
        }
        #expect(checked > 100)
        // Two conditions on one key: both must hold.
        let both = [SettingCondition(key: "lr", value: "0.9"), SettingCondition(key: "learning_rate", value: "0.5")]
        #expect(try store.listRuns(matching: RunFilter(conditions: both)).isEmpty)
        // Hostile text is a value like any other.
        let hostile = SettingCondition(key: "reward", value: "ratio' OR 1=1 --\"\\\u{1}")
        #expect(try store.listRuns(matching: RunFilter(conditions: [hostile])).isEmpty)
        let hostileTag = SettingCondition(key: "tag.a\"b\\c\u{0}é", value: "]}'")
        #expect(try store.listRuns(matching: RunFilter(conditions: [hostileTag])).isEmpty)
        #expect(throws: StoreError.self) { try store.listRuns(matching: RunFilter(conditions: [SettingCondition(key: "bogus", value: "1")])) }
    }
}
