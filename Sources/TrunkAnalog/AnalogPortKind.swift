import TrunkCore
import TrunkHardware

/// Which side of the loop a port plays: FXS feeds a phone (battery, ringing), FXO is a phone
/// toward the exchange. DAHDI names the signalling after the far end: an FXS port runs FXO
/// signalling (`fxoks`), an FXO port FXS signalling (`fxsks`).
public enum AnalogPortKind: String, Sendable, Codable, CaseIterable {
    case fxs
    case fxo

    /// The channel signalling the hardware must offer for this kind of port.
    public var requiredSignalling: ChannelSignalling {
        switch self {
        case .fxs: .fxoKewlStart
        case .fxo: .fxsKewlStart
        }
    }

    /// Refuses a port configured as a kind the channel's hardware is not.
    /// - Parameters:
    ///   - parameters: what the backend reports for the channel (DAHDI_GET_PARAMS).
    ///   - port: the port's name in the configuration, for the message.
    ///   - location: where the port was configured (`FILE:LINE:COLUMN`), prefixed to the message.
    public func validate(_ parameters: ChannelParameters, port: String, location: String? = nil) throws(TrunkError) {
        try validate(offered: [parameters.signalling], port: port,
                     where: "channel \(parameters.channel) (span \(parameters.span), port \(parameters.chanPos))",
                     location: location)
    }

    /// Refuses a port configured as a kind none of the backend's analog hardware offers.
    /// - Parameter offered: the signalling types the backend's channels offer.
    public func validate(offered: Set<ChannelSignalling>, port: String, where device: String, location: String? = nil) throws(TrunkError) {
        guard !offered.contains(requiredSignalling) else { return }
        let prefix = location.map { "\($0): " } ?? ""
        let found = offered.map { "\($0.portName) (\($0.rawValue))" }.sorted().joined(separator: ", ")
        let other = self == .fxs ? "fxo" : "fxs"
        throw TrunkError(.invalidArgument,
                         "\(prefix)port \(port): configured as \(rawValue.uppercased()) but \(device) offers \(found.isEmpty ? "no analog hardware" : found); an \(rawValue.uppercased()) port needs \(requiredSignalling.portName) hardware (\(requiredSignalling.rawValue) signalling). Configure the port as \(other) or choose a channel on an \(rawValue.uppercased()) module.")
    }
}
