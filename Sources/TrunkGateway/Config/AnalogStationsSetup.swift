import Logging
import TrunkAnalog
import TrunkHardware

extension TrunklineConfig {
    /// Virtual FXS ports declared in `[[analog]]` make the lab's FXS card a span of stations on
    /// the call model (rung with `channel.ring`); the lab's FXO card cabled to it plays the
    /// phones. Each declared port rings with its `ring_cadence` and sends caller ID as its
    /// `callerid` says. nil when no virtual FXS port is declared.
    public func analogLabSetup(simulator: LineSimulator, logger: Logger) -> AnalogLabSetup? {
        let stations = analogPorts.filter { $0.backend == .virtual && $0.kind == .fxs }
        guard !stations.isEmpty else { return nil }
        var configurations: [Int: FXSConfiguration] = [:]
        for port in stations {
            var configuration = AnalogStations.defaultConfiguration
            if !port.ringCadenceMs.isEmpty { configuration.ringCadence = port.ringCadenceMs }
            switch port.callerID {
            case .fsk, .auto: configuration.callerID = .fsk(.fskV23, delayMs: 500)
            case .dtmf: configuration.callerID = .dtmf(.a)
            case .off: configuration.callerID = .none
            }
            configurations[port.channel] = configuration
        }
        return AnalogLabSetup(simulator: simulator, role: .stations, stationConfigurations: configurations, logger: logger)
    }
}
