import GRDB
import TrunkCore

/// Someone who looks at recordings, and what they may see. Agents see their own calls (by agent
/// id); department and QA users see recordings whose skill/queue is one of their groups or that
/// carry one of their tags; admins see everything and alone may hold, release and purge.
public struct RecordingUser: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case agent
        case department
        case qa
        case admin
    }

    public var name: String
    public var role: Role
    public var agentId: String?
    public var tags: [String]
    public var groups: [String]

    public init(name: String, role: Role, agentId: String? = nil, tags: [String] = [], groups: [String] = []) {
        self.name = name
        self.role = role
        self.agentId = agentId
        self.tags = tags
        self.groups = groups
    }

    public var isAdmin: Bool { role == .admin }

    /// The SQL condition limiting a search to what this user may see (nil: no limit).
    func scopeClause() -> (String?, [any DatabaseValueConvertible]) {
        switch role {
        case .admin:
            return (nil, [])
        case .agent:
            // An agent without an agent id owns no recordings.
            return ("agentId = ?", [agentId ?? "\u{0}no-agent"])
        case .department, .qa:
            var parts: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if !groups.isEmpty {
                parts.append("skill IN (\(groups.map { _ in "?" }.joined(separator: ", ")))")
                arguments += groups
            }
            if !tags.isEmpty {
                parts.append("id IN (SELECT recordingId FROM recording_tag WHERE tag IN (\(tags.map { _ in "?" }.joined(separator: ", "))))")
                arguments += tags
            }
            return (parts.isEmpty ? "0" : "(" + parts.joined(separator: " OR ") + ")", arguments)
        }
    }

    public func mayAccess(_ record: RecordingRecord) -> Bool {
        switch role {
        case .admin: return true
        case .agent: return agentId != nil && record.agentId == agentId
        case .department, .qa:
            return (record.skill.map { groups.contains($0) } ?? false) || record.tags.contains { tags.contains($0) }
        }
    }
}
