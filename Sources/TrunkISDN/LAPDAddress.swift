/// The two-octet LAPD address field (Q.921 §3.3): SAPI, C/R bit and TEI.
public struct LAPDAddress: Hashable, Sendable, CustomStringConvertible {
    /// Service access point identifier, 0...63 (0 = call control, 63 = TEI management).
    public var sapi: UInt8
    /// The raw C/R bit. Whether it means command or response depends on who sent the frame.
    public var commandResponseBit: Bool
    /// Terminal endpoint identifier, 0...127 (0 on a point-to-point PRI).
    public var tei: UInt8

    public init(sapi: UInt8, commandResponseBit: Bool, tei: UInt8) {
        self.sapi = sapi & 0x3F
        self.commandResponseBit = commandResponseBit
        self.tei = tei & 0x7F
    }

    public static let callControlSAPI: UInt8 = 0
    public static let teiManagementSAPI: UInt8 = 63

    /// The C/R bit a side puts on its commands (Q.921 table 1): the network sends
    /// commands with C/R = 1, the user with C/R = 0; responses carry the opposite.
    public static func commandResponseBit(for role: ISDNRole, isCommand: Bool) -> Bool {
        switch role {
        case .network: return isCommand
        case .user: return !isCommand
        }
    }

    /// Whether a frame received by `role` with this address is a command.
    public func isCommand(receivedBy role: ISDNRole) -> Bool {
        // The peer has the other role, so its commands carry the other C/R value.
        switch role {
        case .network: return !commandResponseBit
        case .user: return commandResponseBit
        }
    }

    var octet1: UInt8 { (sapi << 2) | (commandResponseBit ? 0x02 : 0x00) }
    var octet2: UInt8 { (tei << 1) | 0x01 }

    public var description: String {
        "SAPI \(sapi) TEI \(tei) C/R \(commandResponseBit ? 1 : 0)"
    }
}

/// Which side of the user-network interface a stack plays.
public enum ISDNRole: Hashable, Sendable {
    /// The exchange (carrier) side: N-states in Q.931, C/R = 1 on commands.
    case network
    /// The subscriber (PBX, call center) side: U-states in Q.931, C/R = 0 on commands.
    case user

    public var peer: ISDNRole { self == .network ? .user : .network }
}
