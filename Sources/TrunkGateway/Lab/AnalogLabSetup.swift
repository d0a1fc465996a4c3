import TrunkAnalog
import TrunkCore
import TrunkHardware

/// The analog half of a simulated lab: an `AnalogTrunk` on every local FXO span (the call
/// centre's lines) and a `LabExchange` on every local FXS span (the exchange's line cards).
public struct AnalogLabSetup: Sendable {
    public let simulator: LineSimulator
    /// The directory number of the lab's analog lines: the exchange hunts calls to this number
    /// over them, so it is the callee the call model sees.
    public var lineNumber: String
    /// How long the exchange's called parties ring before they answer the gateway's calls.
    public var exchangeRingMs: Int64

    public init(simulator: LineSimulator, lineNumber: String = "95500", exchangeRingMs: Int64 = 2_000) {
        self.simulator = simulator
        self.lineNumber = lineNumber
        self.exchangeRingMs = exchangeRingMs
    }

    func build(manager: CallManager, now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) -> ([Int: AnalogTrunk], [Int: LabExchange]) {
        var trunks: [Int: AnalogTrunk] = [:]
        var exchanges: [Int: LabExchange] = [:]
        let locals = Set(simulator.localSpanNumbers)
        var channelBase = 1
        for span in simulator.topology.spans {
            defer { channelBase += span.ports }
            guard span.kind != .e1, span.ports > 0, locals.contains(span.number) else { continue }
            var devices: [Int: any ChannelDevice] = [:]
            for position in 1...span.ports { devices[position] = try simulator.openChannel(channelBase + position - 1) }
            if span.kind == .fxo {
                let numbers = Dictionary(uniqueKeysWithValues: devices.keys.map { ($0, lineNumber) })
                trunks[span.number] = try AnalogTrunk(span: span.number, devices: devices, manager: manager, lineNumbers: numbers, now: now)
            } else {
                exchanges[span.number] = try LabExchange(span: span.number, devices: devices, ringMs: exchangeRingMs, now: now)
            }
        }
        return (trunks, exchanges)
    }
}
