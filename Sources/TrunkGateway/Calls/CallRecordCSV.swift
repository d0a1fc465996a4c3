import Foundation

/// Call records as CSV (RFC 4180), one call per line, every timestamp a column of its own.
public enum CallRecordCSV {
    public static let columns = [
        "call_id", "direction", "trunk", "span", "channel", "trunk_group", "caller", "caller_presentation", "callee",
        "redirecting", "handler", "started_at", "number_complete_ms", "proceeding_ms", "alerting_ms", "answer_ms",
        "first_media_ms", "hangup_ms", "cleared_by", "cause", "cause_text", "failure", "digits", "recordings",
    ]

    public static func render(_ calls: [CallRecord]) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var out = columns.joined(separator: ",") + "\r\n"
        for call in calls {
            let ms = { (kind: CallEvent.Kind) in call.time(of: kind).map { String(format: "%.1f", $0) } ?? "" }
            let fields: [String] = [
                call.callID, call.direction.rawValue, call.trunk.rawValue, "\(call.address.span)", "\(call.address.channel)",
                call.trunkGroup ?? "", call.caller ?? "", call.callerPresentation ?? "", call.callee ?? "", call.redirecting ?? "",
                call.handler ?? "", formatter.string(from: call.started), ms(.numberComplete), ms(.proceeding), ms(.alerting),
                ms(.answered), ms(.firstMedia), ms(.hangup), call.clearedBy?.rawValue ?? "", call.cause.map(String.init) ?? "",
                call.causeText ?? "", call.failure?.rawValue ?? "", call.digits, call.recordings.joined(separator: " "),
            ]
            out += fields.map(quote).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
