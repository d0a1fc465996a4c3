import TrunkISDN

/// A span's PRI signalling beyond its side: switch type, overlap dialling, RESTART on bring-up
/// and the Q.921/Q.931 timers a technician may set by their standard names.
public struct PRISettings: Sendable, Equatable, Codable {
    public enum SwitchType: String, Sendable, CaseIterable, Codable {
        /// ETSI DSS1, which China's PRI follows (GB/T 17154.2 references Q.931/ETSI).
        case euroisdn
    }

    /// A timer or counter the file may set: its key, the range a carrier could sensibly ask
    /// for, and the stack's default (libpri/ETSI values, see REFERENCE.md). Timers in ms.
    public struct Tunable: Sendable {
        public var key: String
        public var range: ClosedRange<Int>
        public var defaultValue: Int
        public var unit: String
    }

    public static let tunables: [Tunable] = [
        Tunable(key: "t200", range: 100...10_000, defaultValue: 1000, unit: "ms"),
        Tunable(key: "t203", range: 1000...120_000, defaultValue: 10_000, unit: "ms"),
        Tunable(key: "n200", range: 1...10, defaultValue: 3, unit: "retries"),
        Tunable(key: "k", range: 1...127, defaultValue: 7, unit: "frames"),
        Tunable(key: "t301", range: 0...600_000, defaultValue: 180_000, unit: "ms"),
        Tunable(key: "t302", range: 1000...60_000, defaultValue: 15_000, unit: "ms"),
        Tunable(key: "t303", range: 1000...60_000, defaultValue: 4000, unit: "ms"),
        Tunable(key: "t304", range: 1000...120_000, defaultValue: 30_000, unit: "ms"),
        Tunable(key: "t305", range: 1000...120_000, defaultValue: 30_000, unit: "ms"),
        Tunable(key: "t308", range: 1000...60_000, defaultValue: 4000, unit: "ms"),
        Tunable(key: "t309", range: 1000...120_000, defaultValue: 6000, unit: "ms"),
        Tunable(key: "t310", range: 0...600_000, defaultValue: 0, unit: "ms"),
        Tunable(key: "t313", range: 1000...60_000, defaultValue: 4000, unit: "ms"),
        Tunable(key: "t316", range: 1000...600_000, defaultValue: 120_000, unit: "ms"),
        Tunable(key: "n316", range: 1...10, defaultValue: 2, unit: "attempts"),
    ]

    public var switchType: SwitchType = .euroisdn
    /// Send the called number in INFORMATION messages after SETUP (overlap sending). The PRI
    /// driver dials en bloc today, so only false is accepted.
    public var overlapDial = false
    /// Send RESTART for the whole interface when the D-channel comes up. The PRI driver does
    /// not yet, so only false is accepted.
    public var restartOnBringUp = false
    /// Values set in the file, by key; a key not here runs at its default.
    public var timers: [String: Int] = [:]

    public init() {}

    public func value(_ key: String) -> Int {
        timers[key] ?? Self.tunables.first { $0.key == key }?.defaultValue ?? 0
    }

    /// Q.921 parameters for this span (PRI: TEI 0, SAPI 0).
    public func dataLink(role: ISDNRole) -> Q921Configuration {
        Q921Configuration(role: role, k: value("k"), n200: value("n200"),
                          t200: .milliseconds(value("t200")), t203: .milliseconds(value("t203")))
    }

    /// Q.931 parameters for this span; 0 for T301/T310 means the timer is off.
    public func callControl(role: ISDNRole) -> Q931Configuration {
        var configuration = Q931Configuration(role: role)
        let t301 = value("t301"), t310 = value("t310")
        configuration.t301 = t301 == 0 ? nil : .milliseconds(t301)
        configuration.t302 = .milliseconds(value("t302"))
        configuration.t303 = .milliseconds(value("t303"))
        configuration.t304 = .milliseconds(value("t304"))
        configuration.t305 = .milliseconds(value("t305"))
        configuration.t308 = .milliseconds(value("t308"))
        configuration.t309 = .milliseconds(value("t309"))
        configuration.t310 = t310 == 0 ? nil : .milliseconds(t310)
        configuration.t313 = .milliseconds(value("t313"))
        configuration.t316 = .milliseconds(value("t316"))
        configuration.n316 = value("n316")
        return configuration
    }
}

extension ConfigReader {
    static let priKeys = ["switch_type", "overlap_dial", "restart_on_up"] + PRISettings.tunables.map(\.key)

    /// The PRI keys of one [[span]] table.
    mutating func priSettings(_ table: ConfigTable) -> PRISettings {
        var settings = PRISettings()
        if let switchType: PRISettings.SwitchType = choice(table, "switch_type", default: .euroisdn) { settings.switchType = switchType }
        // Accepted only as the driver behaves, so the file never claims what the line does not do.
        settings.overlapDial = boolean(table, "overlap_dial", default: false)
        if settings.overlapDial, let entry = value(table, "overlap_dial") {
            fail(entry.position, "overlap_dial = true is not supported yet: the PRI driver sends the called number en bloc (SETUP with Sending complete)")
        }
        settings.restartOnBringUp = boolean(table, "restart_on_up", default: false)
        if settings.restartOnBringUp, let entry = value(table, "restart_on_up") {
            fail(entry.position, "restart_on_up = true is not supported yet: the PRI driver does not send RESTART when the D-channel comes up (use `trunkctl pri restart N`)")
        }
        for tunable in PRISettings.tunables where value(table, tunable.key) != nil {
            if let number = integer(table, tunable.key, in: tunable.range) { settings.timers[tunable.key] = number }
        }
        return settings
    }
}
