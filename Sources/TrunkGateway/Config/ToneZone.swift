/// `[tones]`: the national tone plan for dial, busy, ringback and congestion tones and the
/// ring cadence to phones.
public struct ToneZone: Sendable, Equatable, Codable {
    /// DAHDI's zone codes (loadzone=/defaultzone=). Only plans Trunkline can play are accepted,
    /// so a file never names a zone that would silently sound like another.
    public static let supported = ["cn"]

    public var zone = "cn"

    public init(zone: String = "cn") { self.zone = zone }
}

extension ConfigReader {
    /// Unknown keys of a single [table] (written without the double brackets of an array).
    mutating func checkKeys(_ table: ConfigTable, allowed: [String], label: String) {
        for entry in table.entries where !allowed.contains(entry.key) {
            fail(entry.keyPosition, "unknown setting \(entry.key) in \(label); expected one of: \(allowed.joined(separator: ", "))")
        }
    }

    mutating func toneZone(_ table: ConfigTable) -> ToneZone {
        checkKeys(table, allowed: ["zone"], label: "[tones]")
        guard let zone = string(table, "zone", default: "cn") else { return ToneZone() }
        guard ToneZone.supported.contains(zone) else {
            fail(value(table, "zone")!.position, "zone must be one of \(ToneZone.supported.map { "\"\($0)\"" }.joined(separator: ", ")) (the tone plans Trunkline carries), not \"\(zone)\"")
            return ToneZone()
        }
        return ToneZone(zone: zone)
    }
}
