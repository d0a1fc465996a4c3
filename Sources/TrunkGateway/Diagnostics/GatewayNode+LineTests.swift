import Foundation
import NIOCore
import TrunkCore

/// trunkctl's `chan tone`, `chan level` and `chan monitor`.
extension GatewayNode {
    func handleLineTest(_ method: ControlMethod, id: Int?, data: Data, stream: ControlStream) async throws -> ByteBuffer {
        guard let lineTests else {
            throw TrunkError(.unavailable, "this node runs no media loop: line tests need one (the embedded default and virtual spans have it)")
        }
        switch method {
        case .chanTone:
            let params = try decodeParams(ChannelToneParams.self, from: data)
            let address = try callChannel(params.span, params.channel)
            if params.off { return encode(id: id, try lineTests.stopTone(address)) }
            guard let frequency = params.frequencyHz, let level = params.levelDBm0 else {
                throw TrunkError(.invalidArgument, "a test tone needs a frequency and a level (e.g. 1004Hz -10dBm0), or off")
            }
            return encode(id: id, try lineTests.startTone(address, frequencyHz: frequency, levelDBm0: level, seconds: params.seconds))
        case .chanLevel:
            let params = try decodeParams(ChannelLevelParams.self, from: data)
            _ = try callChannel(params.span, params.channel)
            return encode(id: id, try await lineTests.measureLevel(params))
        case .chanMonitor:
            let params = try decodeParams(ChannelMonitorParams.self, from: data)
            _ = try callChannel(params.span, params.channel)
            guard stream.reachesClient else {
                throw TrunkError(.unavailable, "chan.monitor streams its audio: this control connection cannot carry a stream")
            }
            return encode(id: id, try await lineTests.monitor(params, stream: stream))
        default:
            throw TrunkError(.internal, "\(method.rawValue) is not a line test method")
        }
    }

    /// `callChannel`'s check alone (tests).
    func handleLineTestChannelCheck(span: Int, channel: Int) throws(TrunkError) { _ = try callChannel(span, channel) }

    /// A channel that carries media: a B-channel or an analog port (the D-channel does not).
    private func callChannel(_ span: Int, _ channel: Int) throws(TrunkError) -> ChannelAddress {
        let address = ChannelAddress(span: span, channel: channel)
        if pri?.drivers[span] != nil {
            guard channel != 16 else {
                throw TrunkError(.invalidArgument, "\(address) is the D-channel: it carries signalling (HDLC), not audio; test a B-channel (1-15, 17-31)")
            }
            _ = try Self.bChannel(channel)
        }
        guard calls?.media?.numbering.number(of: address) != nil else {
            throw TrunkError(.notFound, "channel \(address) does not exist on this node")
        }
        return address
    }
}
