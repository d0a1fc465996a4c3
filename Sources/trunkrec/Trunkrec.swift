import ArgumentParser
import Foundation
import TrunkCore
import TrunkGateway
import TrunkRecording

/// trunkrec: find, play, export and check recordings, on the files themselves (trunkd need not
/// run). Exit status: 0 ok, 1 error, 2 integrity problem or storage alarm.
struct Trunkrec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunkrec",
        abstract: "Search, play, export and verify Trunkline call recordings.",
        discussion: """
            Exit status: 0 ok, 1 error, 2 integrity problem or storage alarm.
            Who is asking: your login name, matched against the [[user]] tables of the
            configuration (root and admins may act for another user with --as).

            Examples:
              trunkrec search --caller 13800138000 --from 2026-11-01 --to 2026-12-01
              trunkrec play REC-1 --side agent --reason "complaint 4711" > call.wav
              trunkrec export REC-1 REC-2 --to /tmp/out --format flac --reason "dispute 88"
              trunkrec verify --all
            """,
        subcommands: [Search.self, Info.self, Play.self, Export.self, Verify.self, Audit.self, Hold.self, Purge.self, Repair.self])
}

/// Where the recordings are and who is asking.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "trunkd's data folder (default: $TRUNKLINE_DATA or ~/.local/state/trunkline).")
    var data: String?

    @Option(name: .long, help: "Configuration file ([recording] and [[user]]); default /etc/trunkline/trunkline.toml if present.")
    var config: String?

    @Option(name: .customLong("as"), help: "Act as this configured user (root and admins only).")
    var actAs: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func loadConfig() throws -> TrunklineConfig? {
        if let config { return try TrunklineConfig.load(path: config) }
        if FileManager.default.fileExists(atPath: TrunklineConfig.defaultPath) {
            return try TrunklineConfig.load(path: TrunklineConfig.defaultPath)
        }
        return nil
    }

    /// The store and the user; refuses users the configuration does not know.
    func open() throws -> (RecordingStore, RecordingUser, TrunklineConfig?) {
        let config = try loadConfig()
        var recording = config?.recording ?? RecordingConfiguration(root: "")
        if recording.root.isEmpty { recording.root = DataFolder.resolve(data).path + "/recordings" }
        let store = try RecordingStore(configuration: recording)
        return (store, try user(config), config)
    }

    static func loginName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())"
    }

    func user(_ config: TrunklineConfig?) throws -> RecordingUser {
        let login = Self.loginName()
        let users = config?.users ?? []
        let me: RecordingUser
        if let known = users.first(where: { $0.name == login }) {
            me = known
        } else if geteuid() == 0 || users.isEmpty {
            // root can read the files anyway; with no [[user]] at all the lab is single-user.
            me = RecordingUser(name: login, role: .admin)
        } else {
            throw TrunkError(.permissionDenied, "\(login) is not a recording user: add a [[user]] table with name = \"\(login)\" to \(config?.file ?? "the configuration")")
        }
        guard let actAs else { return me }
        guard me.isAdmin else { throw TrunkError(.permissionDenied, "\(login) (\(me.role.rawValue)) may not act as another user; only root and admins may use --as") }
        guard let other = users.first(where: { $0.name == actAs }) else {
            throw TrunkError(.notFound, "--as \(actAs): no [[user]] named \(actAs) in \(config?.file ?? "the configuration")")
        }
        return other
    }
}

/// "2026-11-30", "2026-11-30T10:15", "2026-11-30 10:15:00", or full ISO 8601; UTC unless stated.
func parseTime(_ text: String) throws -> Date {
    let iso = ISO8601DateFormatter()
    if let date = iso.date(from: text) { return date }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    for pattern in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
        formatter.dateFormat = pattern
        if let date = formatter.date(from: text) { return date }
    }
    throw ValidationError("'\(text)' is not a time: use 2026-11-30, 2026-11-30T10:15 or ISO 8601 (UTC unless a zone is given)")
}

func isoTime(_ milliseconds: Int64?) -> String {
    guard let milliseconds else { return "-" }
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Loads a recording the user may see, writing a denied attempt to the audit trail.
func accessible(_ id: String, store: RecordingStore, user: RecordingUser, action: String, reason: String?) throws -> RecordingRecord {
    guard let record = try store.index.record(id) else { throw TrunkError(.notFound, "no recording \(id) in \(store.index.path)") }
    guard user.mayAccess(record) else {
        try store.audit(user: user.name, action: action, ids: [id], reason: reason, outcome: "denied: outside the user's scope")
        throw TrunkError(.permissionDenied, "\(user.name) (\(user.role.rawValue)) may not \(action == "played" ? "play" : "export") recording \(id): it is outside their scope")
    }
    guard record.state != "purged" && record.state != "missing" else {
        throw TrunkError(.notFound, "recording \(id) is \(record.state)\(record.note.map { ": \($0)" } ?? "")")
    }
    return record
}
