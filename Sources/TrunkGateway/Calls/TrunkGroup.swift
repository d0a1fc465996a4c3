/// A named set of channels outbound calls are placed on, hunted in a fixed order.
public struct TrunkGroup: Sendable, Equatable, Codable {
    public enum HuntOrder: String, Sendable, Codable, CaseIterable {
        case ascending
        case descending
        /// Starts after the channel used last, so seizures spread over the group.
        case roundRobin = "round_robin"
    }

    public var name: String
    public var members: [ChannelAddress]
    public var hunt: HuntOrder

    public init(name: String, members: [ChannelAddress], hunt: HuntOrder = .ascending) {
        self.name = name
        self.members = members.sorted()
        self.hunt = hunt
    }

    /// Members in the order to try them; `last` is the channel seized last (round robin).
    public func huntSequence(after last: ChannelAddress?) -> [ChannelAddress] {
        switch hunt {
        case .ascending: return members
        case .descending: return members.reversed()
        case .roundRobin:
            guard let last, let index = members.firstIndex(of: last) else { return members }
            return Array(members[(index + 1)...] + members[...index])
        }
    }
}

/// Who takes a new inbound call: a CTI client's claim on spans, channels or called numbers.
public struct CallClaim: Sendable, Equatable, Codable {
    public var owner: String
    public var spans: [Int]
    public var channels: [ChannelAddress]
    /// Called-number patterns: digits, `X` any digit, `N` 2–9, `Z` 1–9, `.` anything after.
    public var dnis: [String]

    public init(owner: String, spans: [Int] = [], channels: [ChannelAddress] = [], dnis: [String] = []) {
        self.owner = owner
        self.spans = spans
        self.channels = channels
        self.dnis = dnis
    }

    /// How specific a match is, so a channel claim beats a span claim beats a number claim
    /// that beats nothing; nil when the claim does not cover the call.
    public func specificity(address: ChannelAddress, callee: String?) -> Int? {
        if channels.contains(address) { return 3 }
        if let callee, dnis.contains(where: { Self.matches(pattern: $0, number: callee) }) { return 2 }
        if spans.contains(address.span) { return 1 }
        return nil
    }

    /// Asterisk-style extension patterns, the shape call-centre people already write.
    public static func matches(pattern: String, number: String) -> Bool {
        var p = pattern.hasPrefix("_") ? Substring(pattern.dropFirst()) : Substring(pattern)
        var n = Substring(number)
        while let c = p.first {
            if c == "." || c == "!" { return !n.isEmpty || c == "!" }
            guard let d = n.first else { return false }
            switch c {
            case "X", "x": guard d.isASCII, d.isNumber else { return false }
            case "N", "n": guard ("2"..."9").contains(d) else { return false }
            case "Z", "z": guard ("1"..."9").contains(d) else { return false }
            case "[":
                // A set of digits and ranges, "[1-5]" or "[137]".
                guard let close = p.firstIndex(of: "]") else { return false }
                let set = Array(p[p.index(after: p.startIndex)..<close])
                var matched = false
                var i = 0
                while i < set.count {
                    if i + 2 < set.count, set[i + 1] == "-" {
                        if (set[i]...set[i + 2]).contains(d) { matched = true }
                        i += 3
                    } else {
                        if set[i] == d { matched = true }
                        i += 1
                    }
                }
                guard matched else { return false }
                p = p[close...]
            default: guard c == d else { return false }
            }
            p = p.dropFirst()
            n = n.dropFirst()
        }
        return n.isEmpty
    }
}
