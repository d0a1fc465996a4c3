/// `[[route]]`: where an inbound call goes, first match wins in file order.
public struct RouteConfig: Sendable, Equatable, Codable {
    public enum Action: Sendable, Equatable, Codable {
        case trunkGroup(String)
        /// A flow built into trunkd (today: "default", which answers, plays a prompt,
        /// collects digits and records).
        case flow(String)
        /// Refuse with this Q.850 cause (1…127).
        case reject(cause: Int)
    }

    public static let builtInFlows = ["default"]

    /// Digits, X (any digit), N (2-9), Z (1-9), and a final "." for "anything more"; nil = any.
    public var dnis: String?
    public var span: Int?
    public var channel: Int?
    public var action: Action
    public var line: Int
    public var column: Int
    var spanPosition: SourcePosition?
    var trunkGroupPosition: SourcePosition?

    public var position: SourcePosition { SourcePosition(line: line, column: column) }

    public static func == (a: Self, b: Self) -> Bool {
        a.dnis == b.dnis && a.span == b.span && a.channel == b.channel && a.action == b.action
    }

    enum CodingKeys: String, CodingKey { case dnis, span, channel, action, line, column }

    /// Whether a called number matches `dnis` (Asterisk's extension pattern letters).
    /// The call manager's number patterns (`CallClaim.matches`): one matcher for claims and routes.
    public static func matches(pattern: String, number: String) -> Bool {
        CallClaim.matches(pattern: pattern, number: number)
    }
}

extension ConfigReader {
    mutating func route(_ table: ConfigTable) -> RouteConfig? {
        checkKeys(table, allowed: ["dnis", "span", "channel", "trunk_group", "flow", "reject"])
        let errorsBefore = errors.count
        let dnis = value(table, "dnis") == nil ? nil : string(table, "dnis")
        if let dnis {
            let body = dnis.hasSuffix(".") ? dnis.dropLast() : Substring(dnis)
            if dnis.isEmpty || !body.allSatisfy({ ($0.isASCII && $0.isNumber) || "XNZ*#".contains($0) }) {
                fail(value(table, "dnis")!.position, "dnis must be digits with X (any digit), N (2-9), Z (1-9) and an optional final '.', not \"\(dnis)\"")
            }
        }
        let span = value(table, "span") == nil ? nil : integer(table, "span", in: 1...128)
        let channel = value(table, "channel") == nil ? nil : integer(table, "channel", in: 1...1024)
        let actions = ["trunk_group", "flow", "reject"].filter { value(table, $0) != nil }
        var action: RouteConfig.Action?
        if actions.count != 1 {
            let where_ = actions.count > 1 ? table.entries.first { $0.key == actions[1] }!.keyPosition : table.position
            fail(where_, "a route needs exactly one of trunk_group, flow or reject, not \(actions.isEmpty ? "none" : actions.joined(separator: " and "))")
        } else if actions[0] == "trunk_group" {
            if let name = string(table, "trunk_group") { action = .trunkGroup(name) }
        } else if actions[0] == "flow" {
            if let flow = string(table, "flow") {
                if RouteConfig.builtInFlows.contains(flow) {
                    action = .flow(flow)
                } else {
                    fail(value(table, "flow")!.position, "flow must be one of the built-in flows \(RouteConfig.builtInFlows.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(flow)\"")
                }
            }
        } else if let cause = integer(table, "reject", in: 1...127) {
            action = .reject(cause: cause)
        }
        guard errors.count == errorsBefore, let action else { return nil }
        return RouteConfig(dnis: dnis, span: span, channel: channel, action: action, line: table.position.line,
                           column: table.position.column, spanPosition: value(table, "span")?.position,
                           trunkGroupPosition: value(table, "trunk_group")?.position)
    }
}
