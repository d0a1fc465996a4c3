import TrunkCTI

extension CTIService {
    /// Alarms become CTI events as `CTIEvent.alarm` maps them.
    public func forwardAlarms(from monitor: AlarmMonitor) {
        let hub = self.hub
        monitor.onEvent { event in hub.publish(CTIEvent.alarm(event)) }
    }
}

extension CTIEvent {
    /// The CTI event for an alarm raised or cleared: D-channel down/up as `dchan.down`/`dchan.up`;
    /// alarms of a span (RED, YELLOW …, slip bursts, the clock taken from a span) as
    /// `span.alarm`/`span.cleared`; the rest, which no span has (storage, the recorder,
    /// configuration applies, the clock back on the internal oscillator), as
    /// `node.alarm`/`node.cleared`, so a client filtering by span sees only span alarms and a
    /// `span.alarm` always has a `span`.
    public static func alarm(_ event: AlarmEvent) -> CTIEvent {
        let record = event.record
        let raised = event.change == .raised
        var fields: [(String, JSONValue)] = [
            ("kind", .string(record.kind)), ("severity", .string(record.severity.rawValue)), ("message", .string(record.message)),
        ]
        guard let span = record.span else {
            if let user = record.user { fields.append(("user", .string(user))) }
            return CTIEvent(raised ? .nodeAlarm : .nodeCleared, fields: fields)
        }
        // The alarm by the name span.status uses (red, yellow … for span.RED, span.YELLOW).
        let name = record.kind.hasPrefix("span.") ? String(record.kind.dropFirst(5)).lowercased() : record.kind
        fields.append(("alarms", .array([.string(name)])))
        if record.kind == "dchannel.down" {
            return CTIEvent(raised ? .dchanDown : .dchanUp, span: span, fields: fields)
        }
        return CTIEvent(raised ? .spanAlarm : .spanCleared, span: span, fields: fields)
    }
}
