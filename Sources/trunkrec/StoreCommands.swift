import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkRecording

extension Trunkrec {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check files against their SHA-256 and the manifest's hash chain; exit 2 naming what changed.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Recording id (or --all).") var id: String?
        @Flag(help: "Every recording.") var all = false

        func validate() throws {
            if (id == nil) == !all { throw ValidationError("give one recording id or --all") }
        }

        func run() throws {
            let (store, user, _) = try common.open()
            if let id, let record = try store.index.record(id), !user.mayAccess(record) {
                throw TrunkError(.permissionDenied, "\(user.name) may not see recording \(id)")
            }
            guard !all || user.isAdmin else { throw TrunkError(.permissionDenied, "verify --all is for admins; verify one of your recordings by id") }
            let problems = try store.verify(ids: id.map { [$0] })
            let checked = id == nil ? try store.index.allRecords().count : 1
            if common.json {
                try printJSON(["checked": "\(checked)", "problems": problems.map(\.message).joined(separator: "\n")])
            } else {
                for problem in problems { print("FAIL  \(problem.message)") }
                print(problems.isEmpty ? "OK: \(checked) recording\(checked == 1 ? "" : "s") and the manifest chain verified"
                                       : "\(problems.count) problem\(problems.count == 1 ? "" : "s") found")
            }
            // The storage alarm is part of the store's health, as trunkctl status reports alarms.
            var alarm: String?
            switch store.storageLevel() {
            case .ok: break
            case .low(let free, let total): alarm = "storage low: \(free) of \(total) bytes free in \(store.root)"
            case .full(let free, _): alarm = "storage full: \(free) bytes free in \(store.root), new recordings are refused"
            }
            if let alarm, !common.json { print("ALARM \(alarm)") }
            if !problems.isEmpty || alarm != nil { throw ExitCode(2) }
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a legal hold on a recording (it cannot be purged) or lift it.",
                                                        subcommands: [Add.self, Remove.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add", abstract: "Hold recordings.")
            @OptionGroup var common: CommonOptions
            @Argument var ids: [String]
            @Option(help: "Why (kept in the audit trail).") var reason: String
            func run() throws {
                let (store, user, _) = try common.open()
                for id in ids { try store.setHold(id, on: true, user: user, reason: reason) }
                print("held: \(ids.joined(separator: " "))")
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "rm", abstract: "Lift holds.")
            @OptionGroup var common: CommonOptions
            @Argument var ids: [String]
            @Option(help: "Why (kept in the audit trail).") var reason: String
            func run() throws {
                let (store, user, _) = try common.open()
                for id in ids { try store.setHold(id, on: false, user: user, reason: reason) }
                print("released: \(ids.joined(separator: " "))")
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete recordings past their retention (not on hold), leaving tombstones in the index and the manifest.")
        @OptionGroup var common: CommonOptions
        @Flag(name: .customLong("dry-run"), help: "Only list what would be purged.") var dryRun = false

        func run() throws {
            let (store, user, _) = try common.open()
            let due = try store.purge(now: Date(), dryRun: dryRun, user: user)
            if common.json { return try printJSON(due.map(\.id)) }
            for r in due { print("\(dryRun ? "would purge" : "purged")  \(r.id)  \(r.retentionClass)  expired \(isoTime(r.expiresAt))") }
            print("\(due.count) recording\(due.count == 1 ? "" : "s") \(dryRun ? "due" : "purged")")
        }
    }

    struct Repair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finalize .part files left by a crash (trunkd does this itself at start-up).")
        @OptionGroup var common: CommonOptions

        func run() throws {
            let (store, user, _) = try common.open()
            guard user.isAdmin else { throw TrunkError(.permissionDenied, "repair is for admins") }
            // Open .part files of a running trunkd are live recordings, not crash debris.
            let folder = DataFolder.resolve(common.data)
            try folder.create()
            let lock = try folder.lock(role: "trunkd")
            let report = try store.repairAll()
            withExtendedLifetime(lock) {}
            for (id, seconds) in report.repaired { print("repaired  \(id)  \(String(format: "%.1f", seconds)) s") }
            for id in report.missing { print("missing   \(id)  (no file was found)") }
            for problem in report.problems { print("FAIL  \(problem)") }
            print("\(report.repaired.count) repaired, \(report.missing.count) missing, \(report.problems.count) failed")
            if !report.problems.isEmpty || !report.missing.isEmpty { throw ExitCode(2) }
        }
    }
}
