import Foundation
import TrunkCore

/// How long a recording is kept: "30d", "90d", "180d", "1y", "permanent", or any "<n>d" / "<n>y"
/// of at least 30 days (the regulatory minimum; shorter classes are refused, not rounded up).
public struct RetentionClass: Sendable, Equatable, Hashable, CustomStringConvertible {
    public static let minimumDays = 30
    public static let named = ["30d", "90d", "180d", "1y", "permanent"]

    public let name: String
    /// nil: kept until purged by hand.
    public let days: Int?

    public init(_ name: String) throws(TrunkError) {
        let text = name.trimmingCharacters(in: .whitespaces).lowercased()
        if text == "permanent" {
            self.name = text
            days = nil
            return
        }
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0, unit == "d" || unit == "y" else {
            throw TrunkError(.invalidArgument, "retention class \"\(name)\" is not one of \(Self.named.joined(separator: ", ")) or \"<days>d\" / \"<years>y\"")
        }
        let total = unit == "y" ? count * 365 : count
        guard total >= Self.minimumDays else {
            throw TrunkError(.invalidArgument, "retention class \"\(name)\" keeps recordings \(total) days; the minimum is \(Self.minimumDays) days")
        }
        self.name = text
        days = total
    }

    public var description: String { name }

    /// When a recording that ended at `endedAtMs` may be purged (nil: never by itself).
    public func expiry(endedAtMs: Int64) -> Int64? {
        days.map { endedAtMs + Int64($0) * 86_400_000 }
    }
}
