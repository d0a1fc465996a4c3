/// The permission classes a token grants. `admin` implies every other class.
public enum CTIPermission: String, Sendable, CaseIterable, Hashable, Comparable {
    /// Call control: answer, hang up, originate, ring, hold, transfer, bridges, conferences, claims.
    case call
    /// Media on a call: play, collect digits, send DTMF, stop media.
    case media
    /// Recording start/stop/pause/resume.
    case record
    /// Supervision: snoop (listen, whisper, barge) and force release. Always audited.
    case supervise
    /// Configuration verbs (none in protocol version 1; reserved so tokens can be written now).
    case config
    /// Everything above, plus the session list.
    case admin

    public static func < (lhs: CTIPermission, rhs: CTIPermission) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which lines a token may act on and see events of. Empty sets mean "no restriction" on that
/// axis; with both given, a channel is in scope if its span or the channel itself is listed.
public struct CTIScope: Sendable, Equatable {
    public var spans: Set<Int>
    public var channels: Set<Int>

    public init(spans: Set<Int> = [], channels: Set<Int> = []) {
        self.spans = spans
        self.channels = channels
    }

    public static let everything = CTIScope()

    public var isUnrestricted: Bool { spans.isEmpty && channels.isEmpty }

    public func allows(span: Int?, channel: Int?) -> Bool {
        if isUnrestricted { return true }
        if let channel, channels.contains(channel) { return true }
        if let span, spans.contains(span) { return true }
        return false
    }

    var json: JSONValue {
        .object([
            ("spans", .array(spans.sorted().map { .int($0) })),
            ("channels", .array(channels.sorted().map { .int($0) })),
        ])
    }
}
