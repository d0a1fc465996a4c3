import Foundation
import TrunkCore
import TrunkRecording

/// `[recording]` and `[[user]]`: where recordings go and who may listen to them.
///
///     [recording]
///     root = "/var/lib/trunkline/recordings"
///     format = "alaw"              # alaw (default), pcm16, mulaw
///     layout = "stereo"            # stereo (left trunk, right agent) or mono
///     mode = "full-time"           # full-time or on-demand
///     full_time_spans = [2]        # spans recorded full-time (these three empty: every call)
///     full_time_channels = [33]    # channels recorded full-time (DAHDI-style numbers)
///     full_time_trunk_groups = ["pri"]
///     tap = "post-ec"
///     retention = "90d"            # 30d, 90d, 180d, 1y, permanent, <n>d, <n>y (≥ 30 days)
///     storage_alarm_free_percent = 10
///     storage_alarm_free_bytes = 10_000_000_000
///     storage_reserve_bytes = 67_108_864
///     key_file = "/etc/trunkline/recording.key"
///
///     [[user]]
///     name = "li.na"
///     role = "agent"               # agent, department, qa, admin
///     agent_id = "1001"
///     tags = ["vip"]               # department/qa: recordings carrying one of these tags
///     groups = ["billing"]         # department/qa: recordings of these skills/queues
extension ConfigReader {
    mutating func recording(_ table: ConfigTable) -> RecordingConfiguration? {
        checkKeys(table, allowed: ["root", "format", "layout", "mode", "full_time_spans", "full_time_channels", "full_time_trunk_groups", "tap", "retention",
                                   "storage_alarm_free_percent", "storage_alarm_free_bytes", "storage_reserve_bytes",
                                   "key_file", "checkpoint_seconds", "writer_threads"])
        let errorsBefore = errors.count
        var configuration = RecordingConfiguration(root: string(table, "root", default: "") ?? "")
        if let root = value(table, "root"), configuration.root.isEmpty || !configuration.root.hasPrefix("/") {
            fail(root.position, "root must be an absolute folder path like \"/var/lib/trunkline/recordings\"")
        }
        let encoding: WAVFormat.Encoding? = choice(table, "format", default: .alaw)
        let layout: RecordingFormat.Layout? = choice(table, "layout", default: .stereo)
        configuration.format = RecordingFormat(encoding: encoding ?? .alaw, layout: layout ?? .stereo)
        configuration.mode = choice(table, "mode", default: RecordingConfiguration.Mode.fullTime) ?? .fullTime
        configuration.tap = choice(table, "tap", default: RecordingConfiguration.TapPoint.postEC) ?? .postEC
        if let spans = value(table, "full_time_spans") {
            if case .array(let items) = spans.kind {
                for item in items {
                    if case .integer(let number) = item.kind, (1...128).contains(number) {
                        configuration.fullTimeSpans.append(number)
                    } else {
                        fail(item.position, "full_time_spans lists span numbers 1…128")
                    }
                }
            } else {
                fail(spans.position, "full_time_spans must be an array of span numbers like [1, 2], not \(spans.typeName)")
            }
        }
        configuration.fullTimeChannels = integerList(table, "full_time_channels", in: 1...4096)
        configuration.fullTimeTrunkGroups = stringList(table, "full_time_trunk_groups")
        if let retention = string(table, "retention", default: "90d") {
            do { configuration.retentionDefault = try RetentionClass(retention) } catch {
                fail(value(table, "retention")!.position, error.message)
            }
        }
        if value(table, "storage_alarm_free_percent") != nil {
            let percent = number(table, "storage_alarm_free_percent", default: 10)
            if !(0...99).contains(percent) {
                fail(value(table, "storage_alarm_free_percent")!.position, "storage_alarm_free_percent must be 0…99, not \(percent)")
            }
            configuration.storageAlarmFreePercent = percent
        }
        if let bytes = integer(table, "storage_alarm_free_bytes", in: 0...Int.max, default: -1), bytes >= 0 {
            configuration.storageAlarmFreeBytes = Int64(bytes)
        }
        if let reserve = integer(table, "storage_reserve_bytes", in: 0...Int.max, default: Int(configuration.storageReserveBytes)) {
            configuration.storageReserveBytes = Int64(reserve)
        }
        if let key = string(table, "key_file", default: ""), !key.isEmpty {
            let position = value(table, "key_file")!.position
            if !key.hasPrefix("/") {
                fail(position, "key_file must be an absolute path")
            } else if !configuration.root.isEmpty, key.hasPrefix(configuration.root.hasSuffix("/") ? configuration.root : configuration.root + "/") {
                fail(position, "key_file must lie outside the recordings root \(configuration.root)")
            }
            configuration.keyFile = key
        }
        if value(table, "checkpoint_seconds") != nil {
            let seconds = number(table, "checkpoint_seconds", default: 2)
            if !(0.1...5).contains(seconds) {
                fail(value(table, "checkpoint_seconds")!.position, "checkpoint_seconds must be 0.1…5 (a crash may lose at most 5 s), not \(seconds)")
            }
            configuration.checkpointSeconds = seconds
        }
        configuration.writerThreads = integer(table, "writer_threads", in: 1...64, default: 2) ?? 2
        guard errors.count == errorsBefore else { return nil }
        return configuration
    }

    mutating func user(_ table: ConfigTable) -> RecordingUser? {
        checkKeys(table, allowed: ["name", "role", "agent_id", "tags", "groups"])
        let errorsBefore = errors.count
        let name = string(table, "name")
        let role: RecordingUser.Role? = choice(table, "role")
        let agentId = string(table, "agent_id", default: "")
        let tags = stringList(table, "tags")
        let groups = stringList(table, "groups")
        if role == .agent, agentId?.isEmpty ?? true {
            fail(table.position, "user \(name ?? "?"): an agent needs agent_id (the id CTI puts on the agent's recordings)")
        }
        if role == .department || role == .qa, tags.isEmpty && groups.isEmpty {
            fail(value(table, "role")!.position, "user \(name ?? "?"): a \(role!.rawValue) user needs tags or groups to be scoped by")
        }
        guard errors.count == errorsBefore, let name, let role else { return nil }
        return RecordingUser(name: name, role: role, agentId: agentId?.isEmpty == false ? agentId : nil, tags: tags, groups: groups)
    }

    mutating func stringList(_ table: ConfigTable, _ key: String) -> [String] {
        guard let entry = value(table, key) else { return [] }
        guard case .array(let items) = entry.kind else {
            fail(entry.position, "\(key) must be an array of strings like [\"a\", \"b\"], not \(entry.typeName)")
            return []
        }
        var out: [String] = []
        for item in items {
            if case .string(let text) = item.kind { out.append(text) } else { fail(item.position, "\(key) lists strings in double quotes") }
        }
        return out
    }

    /// Full-time lists name what exists: trunk groups the file declares (or, without any, the
    /// built-in "pri" and "analog"), spans the file declares (when it declares any). A typo
    /// here would silently leave calls unrecorded.
    mutating func crossCheckRecording(_ config: TrunklineConfig, _ table: ConfigTable?) {
        guard let table else { return }
        let groups = config.trunkGroups.isEmpty ? ["pri", "analog"] : config.trunkGroups.map(\.name)
        if let entry = value(table, "full_time_trunk_groups"), case .array(let items) = entry.kind {
            for item in items {
                if case .string(let name) = item.kind, !groups.contains(name) {
                    fail(item.position, "full_time_trunk_groups: there is no trunk group \(name) (trunk groups: \(groups.joined(separator: ", ")))")
                }
            }
        }
        let spans = config.spans.map(\.number)
        if !spans.isEmpty, let entry = value(table, "full_time_spans"), case .array(let items) = entry.kind {
            for item in items {
                if case .integer(let number) = item.kind, !spans.contains(number) {
                    fail(item.position, "full_time_spans: span \(number) is not declared (spans: \(spans.map(String.init).joined(separator: ", ")))")
                }
            }
        }
    }

    mutating func crossCheckUsers(_ users: [(RecordingUser, SourcePosition)]) {
        var seen: [String: Int] = [:]
        for (user, position) in users {
            if let first = seen[user.name] { fail(position, "user \(user.name) is defined twice (first at line \(first))") }
            seen[user.name] = position.line
        }
    }
}
