import TrunkCTI

extension CTIService {
    /// Alarms become CTI events: D-channel down/up as `dchan.down`/`dchan.up`, everything else
    /// (span alarms, slips, storage, clock source, config applies) as `span.alarm`/`span.cleared`.
    public func forwardAlarms(from monitor: AlarmMonitor) {
        let hub = self.hub
        monitor.onEvent { event in
            let record = event.record
            let type: CTIEventType
            switch (record.kind, event.change) {
            case ("dchannel.down", .raised): type = .dchanDown
            case ("dchannel.down", .cleared): type = .dchanUp
            case (_, .raised): type = .spanAlarm
            case (_, .cleared): type = .spanCleared
            }
            hub.publish(CTIEvent(type, span: record.span, fields: [
                ("kind", .string(record.kind)), ("severity", .string(record.severity.rawValue)), ("message", .string(record.message)),
                // The alarm by name as the protocol lists them (red, yellow, … for span.red, span.yellow).
                ("alarms", .array([.string(record.kind.hasPrefix("span.") ? String(record.kind.dropFirst(5)) : record.kind)])),
            ]))
        }
    }
}
