import Logging
import TrunkAnalog
import TrunkCore
import TrunkHardware

/// The analog half of a simulated lab. The lab's FXS and FXO cards are cabled port to port;
/// which side the gateway holds depends on `role`:
///
/// - `.lines` (the embedded default): an `AnalogTrunk` on every local FXO span (the call
///   centre's exchange lines) and a `LabExchange` on every FXS span ringing them;
/// - `.stations`: `AnalogStations` on every local FXS span (phones the gateway rings, on the
///   call model) and `LabPhones` on every FXO span, playing the telephones.
public struct AnalogLabSetup: Sendable {
    public enum Role: Sendable {
        case lines
        case stations
    }

    public let simulator: LineSimulator
    public var role: Role
    /// The directory number of the lab's analog lines: the exchange hunts calls to this number
    /// over them, so it is the callee the call model sees.
    public var lineNumber: String
    /// How long the exchange's called parties ring before they answer the gateway's calls.
    public var exchangeRingMs: Int64
    /// `.stations`: how each station port rings and sends caller ID, by channel number.
    public var stationConfigurations: [Int: FXSConfiguration]
    public var logger: Logger

    public init(simulator: LineSimulator, role: Role = .lines, lineNumber: String = "95500", exchangeRingMs: Int64 = 2_000,
                stationConfigurations: [Int: FXSConfiguration] = [:], logger: Logger = Logger(label: "trunkline.lab")) {
        self.simulator = simulator
        self.role = role
        self.lineNumber = lineNumber
        self.exchangeRingMs = exchangeRingMs
        self.stationConfigurations = stationConfigurations
        self.logger = logger
    }

    /// What `build` made, by span.
    struct Built {
        var trunks: [Int: AnalogTrunk] = [:]
        var exchanges: [Int: LabExchange] = [:]
        var stations: [Int: AnalogStations] = [:]
        var phones: [Int: LabPhones] = [:]
    }

    func build(manager: CallManager, now: @escaping @Sendable () -> AnalogInstant) throws(TrunkError) -> Built {
        var built = Built()
        let locals = Set(simulator.localSpanNumbers)
        var channelBase = 1
        for span in simulator.topology.spans {
            defer { channelBase += span.ports }
            guard span.kind != .e1, span.ports > 0, locals.contains(span.number) else { continue }
            var devices: [Int: any ChannelDevice] = [:]
            for position in 1...span.ports { devices[position] = try simulator.openChannel(channelBase + position - 1) }
            switch (role, span.kind) {
            case (.lines, .fxo):
                let numbers = Dictionary(uniqueKeysWithValues: devices.keys.map { ($0, lineNumber) })
                built.trunks[span.number] = try AnalogTrunk(span: span.number, devices: devices, manager: manager, lineNumbers: numbers, now: now)
            case (.lines, _):
                built.exchanges[span.number] = try LabExchange(span: span.number, devices: devices, ringMs: exchangeRingMs, now: now)
            case (.stations, .fxs):
                var configurations: [Int: FXSConfiguration] = [:]
                for position in devices.keys {
                    if let configuration = stationConfigurations[channelBase + position - 1] { configurations[position] = configuration }
                }
                built.stations[span.number] = try AnalogStations(span: span.number, devices: devices, manager: manager,
                                                                 configurations: configurations, now: now)
            case (.stations, _):
                built.phones[span.number] = try LabPhones(span: span.number, devices: devices, logger: logger, now: now)
            }
        }
        return built
    }
}
