import TrunkCTI
import TrunkHardware

extension GatewayNode {
    /// Spans as the CTI socket reports them (`span.status`, `state.snapshot`).
    public func ctiSpanStatus() -> [CTISpanStatus] {
        let channels = calls?.manager.channelStates() ?? []
        let carrier = pri?.carrierSpans ?? []
        return status().spans.map(\.status).filter { !carrier.contains($0.span) }.map { span in
            let names: [(SpanAlarms, String)] = [(.red, "red"), (.yellow, "yellow"), (.blue, "blue"), (.los, "los"), (.lfa, "lfa"),
                                                 (.lmfa, "lmfa"), (.loopback, "loopback"), (.notOpen, "not_open"), (.recover, "recover")]
            let driver = pri?.drivers[span.span]
            let kind: String
            let signalling: String
            switch span.type {
            case .e1:
                kind = "e1"
                signalling = span.role == .network ? "pri_net" : "pri_cpe"
            default:
                let fxs = span.description.contains("FXS")
                kind = fxs ? "fxs" : "fxo"
                signalling = fxs ? "fxo_ks" : "fxs_ks"  // DAHDI names the signalling the far end speaks
            }
            let onSpan = channels.filter { $0.address.span == span.span }
            return CTISpanStatus(span: span.span, kind: kind, signalling: signalling,
                                 alarms: names.filter { span.alarms.contains($0.0) }.map(\.1),
                                 dchannel: driver.map { $0.inService ? "up" : "down" },
                                 channels: onSpan.isEmpty ? span.totalChannels : onSpan.count,
                                 channelsInUse: onSpan.filter { $0.call != nil }.count)
        }
    }
}
