/// `[[trunk_group]]`: channels taken together for outbound hunting and inbound routing.
public struct TrunkGroupConfig: Sendable, Equatable, Codable {
    public enum Hunt: String, Sendable, CaseIterable, Codable {
        case ascending
        case descending
        /// Start after the channel used last, so wear and billing spread over the trunk.
        case roundRobin = "round_robin"
    }

    public var name: String
    /// Whole spans (their B-channels).
    public var spans: [Int]
    /// Single channels (E1 B-channels or analog ports), DAHDI numbering.
    public var channels: [Int]
    public var hunt: Hunt
    public var line: Int
    public var column: Int
    /// Where `spans` and `channels` stood, for cross-reference errors.
    var spansPosition: SourcePosition?
    var channelsPosition: SourcePosition?

    public var position: SourcePosition { SourcePosition(line: line, column: column) }

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.spans == b.spans && a.channels == b.channels && a.hunt == b.hunt
    }

    enum CodingKeys: String, CodingKey { case name, spans, channels, hunt, line, column }
}

extension ConfigReader {
    mutating func trunkGroup(_ table: ConfigTable) -> TrunkGroupConfig? {
        checkKeys(table, allowed: ["name", "spans", "channels", "hunt"])
        let errorsBefore = errors.count
        let name = string(table, "name")
        if let name, name.isEmpty || name.contains(where: { $0 == " " || $0 == "/" }) {
            fail(value(table, "name")!.position, "trunk group name must be a word without spaces or '/', not \"\(name)\"")
        }
        let spans = integerList(table, "spans", in: 1...128)
        let channels = channelList(table, "channels") ?? []
        if value(table, "spans") == nil && value(table, "channels") == nil {
            fail(table.position, "trunk group \(name ?? "?") needs spans = [N, …] or channels = \"FIRST-LAST\"")
        }
        let hunt: TrunkGroupConfig.Hunt? = choice(table, "hunt", default: .ascending)
        guard errors.count == errorsBefore, let name, let hunt else { return nil }
        return TrunkGroupConfig(name: name, spans: spans, channels: channels, hunt: hunt, line: table.position.line,
                                column: table.position.column, spansPosition: value(table, "spans")?.position,
                                channelsPosition: value(table, "channels")?.position)
    }

    /// [1, 2] (or a single integer): a list of small numbers such as spans.
    mutating func integerList(_ table: ConfigTable, _ key: String, in range: ClosedRange<Int>) -> [Int] {
        guard let entry = value(table, key) else { return [] }
        let items: [ConfigValue]
        switch entry.kind {
        case .integer: items = [entry]
        case .array(let list): items = list
        default:
            fail(entry.position, "\(key) must be a list of numbers like [1, 2], not \(entry.typeName)")
            return []
        }
        var numbers: [Int] = []
        for item in items {
            guard case .integer(let number) = item.kind, range.contains(number) else {
                fail(item.position, "\(key) lists numbers \(range.lowerBound)…\(range.upperBound)")
                return []
            }
            numbers.append(number)
        }
        return numbers
    }
}
