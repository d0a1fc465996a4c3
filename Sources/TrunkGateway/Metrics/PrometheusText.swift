/// Prometheus text exposition format 0.0.4, written by hand: every family once with HELP and
/// TYPE, samples after it, label values escaped.
///
/// Why not swift-prometheus + swift-metrics: what we expose is state the node already holds
/// (span alarms, channel states, calls, D-channel links, clock statistics). Rendering it at
/// scrape time gives exact current values with no second copy to keep in step, no process-wide
/// MetricsSystem bootstrap, and no poller pushing values into a registry between scrapes.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable {
        case gauge
        case counter
    }

    private var text = ""
    private var families = Set<String>()

    public init() {}

    /// Starts a family; each name is declared once.
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        precondition(families.insert(name).inserted, "metric family \(name) declared twice")
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Int) {
        sample(name, labels, Double(value))
    }

    public var output: String { text }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
