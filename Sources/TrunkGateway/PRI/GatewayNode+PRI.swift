import Foundation
import NIOCore
import TrunkCore
import TrunkISDN
import TrunkTrace

/// trunkctl's `pri …` commands.
extension GatewayNode {
    func priLab() throws(TrunkError) -> PRILab {
        guard let pri else { throw TrunkError(.unavailable, "no PRI spans run on this node") }
        return pri
    }

    func handlePRI(_ method: ControlMethod, id: Int?, data: Data) async throws -> ByteBuffer {
        let lab = try priLab()
        switch method {
        case .priSpans:
            return encode(id: id, lab.drivers.keys.sorted().map { lab.drivers[$0]!.report() })
        case .priSpan:
            let params = try decodeParams(SpanParams.self, from: data)
            return encode(id: id, try lab.driver(span: params.span).report())
        case .priCall:
            let params = try decodeParams(PRICallParams.self, from: data)
            guard !params.called.isEmpty, params.called.allSatisfy({ "0123456789*#".contains($0) }) else {
                throw TrunkError(.invalidArgument, "called number must be digits (0-9 * #), not '\(params.called)'")
            }
            _ = try lab.driver(span: params.span)
            let channel = try Self.bChannel(params.channel)
            logger.notice("test call placed", metadata: ["span": "\(params.span)", "called": "\(params.called)"])
            if let carrier = calls?.carriers[params.span] {
                // The carrier calls the call centre, as the network would.
                let placed = try carrier.place(called: params.called, calling: params.calling, channel: channel.map(Int.init))
                return encode(id: id, PRICallResult(call: placed.reference, channel: placed.channel))
            }
            guard let manager = calls?.manager else { throw TrunkError(.unavailable, "no call manager runs on this node") }
            let record = try manager.originate(span: params.span, channel: channel.map { ChannelAddress(span: params.span, channel: Int($0)) },
                                               number: params.called, callerID: params.calling)
            return encode(id: id, PRICallResult(call: record.callID, channel: record.address.channel))
        case .priHangup:
            let params = try decodeParams(PRIChannelParams.self, from: data)
            let driver = try lab.driver(span: params.span)
            guard let channel = try Self.bChannel(params.channel) else { throw TrunkError(.invalidArgument, "hang up needs a channel: SPAN/CHANNEL") }
            guard let call = driver.call(onChannel: channel) else { throw TrunkError(.notFound, "span \(params.span) channel \(channel) has no call") }
            let cause = Q850Cause(rawValue: UInt8(clamping: params.cause ?? 16))
            let now = lab.now
            driver.callControl(now: now) { $0.disconnect(call, cause: cause, now: now) }
            return encode(id: id, driver.report())
        case .priRestart:
            let params = try decodeParams(PRIChannelParams.self, from: data)
            let driver = try lab.driver(span: params.span)
            try driver.restart(channel: try Self.bChannel(params.channel), now: lab.now)
            logger.notice("RESTART sent", metadata: ["span": "\(params.span)", "channel": "\(params.channel.map(String.init) ?? "all")"])
            return encode(id: id, driver.report())
        case .priTrace:
            let params = try decodeParams(PRITraceParams.self, from: data)
            guard params.seconds > 0 && params.seconds <= 3600 else { throw TrunkError(.invalidArgument, "trace length must be 0…3600 s") }
            let driver = try lab.driver(span: params.span)
            let writer = try LAPDTraceWriter(path: params.path, networkSide: driver.role == .network)
            driver.addTrace(writer)
            try? await Task.sleep(for: .milliseconds(Int(params.seconds * 1000)))
            driver.removeTrace(writer)
            return encode(id: id, PRITraceResult(path: params.path, frames: writer.framesWritten))
        case .priDebug:
            let params = try decodeParams(PRIDebugParams.self, from: data)
            guard params.seconds > 0 && params.seconds <= 3600 else { throw TrunkError(.invalidArgument, "debug length must be 0…3600 s") }
            let driver = try lab.driver(span: params.span)
            let handle = driver.beginDebug()
            try? await Task.sleep(for: .milliseconds(Int(params.seconds * 1000)))
            return encode(id: id, PRIDebugResult(lines: driver.endDebug(handle)))
        case .priBlock, .priUnblock:
            let params = try decodeParams(PRIChannelParams.self, from: data)
            let driver = try lab.driver(span: params.span)
            guard let channel = try Self.bChannel(params.channel) else { throw TrunkError(.invalidArgument, "blocking needs a channel: SPAN/CHANNEL") }
            try driver.setBlocked(channel, method == .priBlock)
            // The call model hunts past it too, as after `chan block`.
            calls?.manager.setBlocked(ChannelAddress(span: params.span, channel: Int(channel)), method == .priBlock)
            logger.notice(method == .priBlock ? "B-channel blocked" : "B-channel unblocked", metadata: ["span": "\(params.span)", "channel": "\(channel)"])
            return encode(id: id, driver.report())
        default:
            throw TrunkError(.internal, "\(method.rawValue) is not a PRI method")
        }
    }

    static func bChannel(_ channel: Int?) throws(TrunkError) -> UInt8? {
        guard let channel else { return nil }
        guard PRILab.e1BChannels.contains(UInt8(clamping: channel)), channel > 0 else {
            throw TrunkError(.invalidArgument, "B-channel \(channel) does not exist on an E1 PRI (1-15, 17-31)")
        }
        return UInt8(channel)
    }
}
