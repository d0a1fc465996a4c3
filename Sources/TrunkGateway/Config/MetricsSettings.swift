/// `[metrics]`: the Prometheus endpoint, always on 127.0.0.1.
public struct MetricsSettings: Sendable, Equatable, Codable {
    /// nil: no endpoint.
    public var port: Int?

    public init(port: Int? = nil) { self.port = port }
}

extension ConfigReader {
    mutating func metricsSettings(_ table: ConfigTable) -> MetricsSettings {
        checkKeys(table, allowed: ["port"], label: "[metrics]")
        return MetricsSettings(port: integer(table, "port", in: 1024...65535))
    }
}
