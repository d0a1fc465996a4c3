import Foundation
import Testing

/// What ships beside the binaries: udev rules, the systemd unit, and what the binaries link.
@Suite("Packaging")
struct PackagingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One udev key-value pair: KEY or KEY{attribute}, an operator, a double-quoted value.
    static let pairPattern = #"^\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$"#

    @Test("udev rules parse, and every rule gives group trunkline and mode 0660")
    func udevRules() throws {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("udev/60-trunkline.rules"), encoding: .utf8)
        let rules = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(rules.count >= 3)
        for rule in rules {
            var assignments: [String: String] = [:]
            var hasMatch = false
            for pair in rule.split(separator: ",") {
                let text = String(pair)
                guard let match = text.range(of: Self.pairPattern, options: .regularExpression) else {
                    Issue.record("not a udev key/operator/value pair: '\(text)' in: \(rule)")
                    continue
                }
                let parts = String(text[match]).components(separatedBy: "\"")
                let head = parts[0].trimmingCharacters(in: .whitespaces)
                if head.hasSuffix("==") || head.hasSuffix("!=") { hasMatch = true }
                let key = head.trimmingCharacters(in: CharacterSet(charactersIn: "=!+-: "))
                assignments[key] = parts[1]
            }
            #expect(hasMatch, "a rule without a match applies to every device: \(rule)")
            #expect(assignments["GROUP"] == "trunkline", "\(rule)")
            #expect(assignments["MODE"] == "0660", "\(rule)")
        }
        #expect(rules.contains { $0.contains(#"SUBSYSTEM=="dahdi""#) })
    }

    @Test("the systemd unit runs trunkd unprivileged in group trunkline")
    func systemdUnit() throws {
        let unit = try String(contentsOf: Self.repository.appendingPathComponent("udev/trunkd.service"), encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        #expect(lines.contains("User=trunkline"))
        #expect(lines.contains { $0.hasPrefix("SupplementaryGroups=") && $0.contains("trunkline") })
        #expect(lines.contains { $0.hasPrefix("ExecStart=") && $0.contains("trunkd") })
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("udev/README.md"), encoding: .utf8)
        #expect(readme.contains("ls -l /dev/dahdi"))
        #expect(readme.contains("udevadm"))
    }

    @Test("product binaries do not link libpri (GPL): only test code may")
    func noLibpriInProducts() throws {
        for binary in ["trunkd", "trunkctl", "trunksim"] {
            let ldd = try run("/usr/bin/ldd", [Binaries.path(binary)], absolute: true)
            #expect(ldd.status == 0, "\(binary): \(ldd.stderr)")
            #expect(ldd.stdout.contains("libc.so"), "\(binary): ldd output looks wrong")
            #expect(!ldd.stdout.contains("libpri"), "\(binary) links libpri")
        }
    }
}
