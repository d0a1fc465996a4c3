import TrunkHardware

/// DAHDI-style channel numbers ↔ span/position addresses. Numbers are global across a
/// backend's spans (span 2's first channel is 32 in the embedded default); upper layers and
/// technicians name channels either way.
public struct ChannelNumbering: Sendable {
    private let spans: [(span: Int, base: Int, count: Int)]

    public init(spans: [(span: Int, base: Int, count: Int)]) { self.spans = spans.sorted { $0.base < $1.base } }

    public init(statuses: [SpanStatus]) {
        self.init(spans: statuses.map { ($0.span, $0.baseChannel, $0.totalChannels) })
    }

    public func number(of address: ChannelAddress) -> Int? {
        guard let span = spans.first(where: { $0.span == address.span }), (1...span.count).contains(address.channel) else { return nil }
        return span.base + address.channel - 1
    }

    public func address(of number: Int) -> ChannelAddress? {
        guard let span = spans.first(where: { number >= $0.base && number < $0.base + $0.count }) else { return nil }
        return ChannelAddress(span: span.span, channel: number - span.base + 1)
    }
}
