import Foundation
import NIOCore
import TrunkCore
import TrunkHardware

public struct LoopbackParams: Codable, Sendable, Equatable {
    public var span: Int
    public var mode: SpanLoopback
    public init(span: Int, mode: SpanLoopback) {
        self.span = span
        self.mode = mode
    }
}

/// Span maintenance the backends offer: loopback on the simulator's E1 spans and, through
/// DAHDI_MAINT, on cards whose driver supports it.
extension GatewayNode {
    func handleLoopback(id: Int?, data: Data) throws -> ByteBuffer {
        let params = try decodeParams(LoopbackParams.self, from: data)
        if let dahdi {
            try dahdi.setLoopback(params.mode, span: params.span)
            logger.notice("span loopback", metadata: ["span": "\(params.span)", "mode": "\(params.mode.rawValue)"])
            return encode(id: id, try spanShow(params.span).span)
        }
        let simulator = try lab()
        try simulator.setLoopback(params.mode, span: params.span)
        logger.notice("span loopback", metadata: ["span": "\(params.span)", "mode": "\(params.mode.rawValue)"])
        return encode(id: id, try spanShow(params.span).span)
    }
}
