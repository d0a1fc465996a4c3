import Foundation
import NIOCore
import TrunkCore

/// trunkctl's `sim call` and `sim traffic`: the lab's carrier (or, on an FXS span, its exchange)
/// calling the gateway.
extension GatewayNode {
    func handleSimCalls(_ method: ControlMethod, id: Int?, data: Data) throws -> ByteBuffer {
        guard let calls else { throw TrunkError(.unavailable, "no call service runs on this node") }
        switch method {
        case .simCall:
            let params = try decodeParams(SimCallParams.self, from: data)
            try Self.checkDigits(params.called, what: "called number")
            if let dtmf = params.dtmf { try Self.checkDigits(dtmf, what: "DTMF", allowed: "0123456789*#ABCD") }
            let signal = try params.callerID.map { (text) throws(TrunkError) -> LabExchange.CallerIDSignal in
                guard let signal = LabExchange.CallerIDSignal(rawValue: text) else {
                    throw TrunkError(.invalidArgument, "caller ID signalling must be fsk or dtmf, not '\(text)'")
                }
                return signal
            }
            if let exchange = calls.exchanges[params.span] {
                let call = try exchange.place(called: params.called, calling: params.calling, port: params.channel, callerID: signal ?? .fsk,
                                              dtmf: params.dtmf ?? "", holdMs: params.holdMs)
                logger.notice("lab exchange call", metadata: ["span": "\(params.span)", "port": "\(call.channel ?? 0)", "called": "\(params.called)"])
                return encode(id: id, call)
            }
            guard let carrier = calls.carriers[params.span] else {
                let carriers = calls.carriers.keys.sorted().map(String.init).joined(separator: ", ")
                let exchanges = calls.exchanges.keys.sorted().map(String.init).joined(separator: ", ")
                throw TrunkError(.notFound, "span \(params.span) does not play the carrier or the exchange here (carrier spans: \(carriers.isEmpty ? "none" : carriers); exchange FXS spans: \(exchanges.isEmpty ? "none" : exchanges))")
            }
            guard params.callerID == nil else {
                throw TrunkError(.invalidArgument, "span \(params.span) is an E1 span: the caller ID goes in the SETUP, --cid is for an FXS span")
            }
            let call = try carrier.place(called: params.called, calling: params.calling, channel: params.channel,
                                         dtmf: params.dtmf ?? "", holdMs: params.holdMs)
            logger.notice("lab carrier call", metadata: ["span": "\(params.span)", "called": "\(params.called)"])
            return encode(id: id, call)
        case .simTrafficStart:
            let params = try decodeParams(SimTrafficParams.self, from: data)
            if !params.profile.dtmf.isEmpty { try Self.checkDigits(params.profile.dtmf, what: "DTMF", allowed: "0123456789*#ABCD") }
            return encode(id: id, try calls.startTraffic(params.profile, span: params.span).report())
        case .simTrafficStatus:
            guard let run = calls.trafficRun else { throw TrunkError(.notFound, "no traffic has run on this node") }
            return encode(id: id, run.report())
        case .simTrafficStop:
            guard let run = calls.trafficRun else { throw TrunkError(.notFound, "no traffic has run on this node") }
            run.stop()
            return encode(id: id, run.report())
        default:
            throw TrunkError(.internal, "\(method.rawValue) is not a lab call method")
        }
    }

    static func checkDigits(_ text: String, what: String, allowed: String = "0123456789*#") throws(TrunkError) {
        guard !text.isEmpty, text.allSatisfy({ allowed.contains($0) }) else {
            throw TrunkError(.invalidArgument, "\(what) must be digits (\(allowed)), not '\(text)'")
        }
    }
}
