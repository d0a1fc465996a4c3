/// The message type octet of a Q.931 message (Q.931 table 4-2).
///
/// A struct so that message types we do not name still decode, and the call layer can
/// answer them with STATUS cause 97 instead of the decoder failing.
public struct Q931MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    // Call establishment
    public static let alerting = Q931MessageType(rawValue: 0x01)
    public static let callProceeding = Q931MessageType(rawValue: 0x02)
    public static let progress = Q931MessageType(rawValue: 0x03)
    public static let setup = Q931MessageType(rawValue: 0x05)
    public static let connect = Q931MessageType(rawValue: 0x07)
    public static let setupAcknowledge = Q931MessageType(rawValue: 0x0D)
    public static let connectAcknowledge = Q931MessageType(rawValue: 0x0F)
    // Call information phase
    public static let userInformation = Q931MessageType(rawValue: 0x20)
    public static let suspendReject = Q931MessageType(rawValue: 0x21)
    public static let resumeReject = Q931MessageType(rawValue: 0x22)
    public static let suspend = Q931MessageType(rawValue: 0x25)
    public static let resume = Q931MessageType(rawValue: 0x26)
    public static let suspendAcknowledge = Q931MessageType(rawValue: 0x2D)
    public static let resumeAcknowledge = Q931MessageType(rawValue: 0x2E)
    // Call clearing
    public static let disconnect = Q931MessageType(rawValue: 0x45)
    public static let restart = Q931MessageType(rawValue: 0x46)
    public static let release = Q931MessageType(rawValue: 0x4D)
    public static let restartAcknowledge = Q931MessageType(rawValue: 0x4E)
    public static let releaseComplete = Q931MessageType(rawValue: 0x5A)
    // Miscellaneous
    public static let segment = Q931MessageType(rawValue: 0x60)
    public static let facility = Q931MessageType(rawValue: 0x62)
    public static let notify = Q931MessageType(rawValue: 0x6E)
    public static let statusEnquiry = Q931MessageType(rawValue: 0x75)
    public static let congestionControl = Q931MessageType(rawValue: 0x79)
    public static let information = Q931MessageType(rawValue: 0x7B)
    public static let status = Q931MessageType(rawValue: 0x7D)
    /// SERVICE and SERVICE ACKNOWLEDGE exist only under the maintenance protocol
    /// discriminator 0x03 (North American NI-2/5ESS); EuroISDN does not use them.
    public static let service = Q931MessageType(rawValue: 0x0F)
    public static let serviceAcknowledge = Q931MessageType(rawValue: 0x07)

    /// Message types the call control of this stack implements for protocol discriminator 0x08.
    public static let callControlTypes: Set<Q931MessageType> = [
        .alerting, .callProceeding, .progress, .setup, .connect, .setupAcknowledge, .connectAcknowledge,
        .userInformation, .suspendReject, .resumeReject, .suspend, .resume, .suspendAcknowledge,
        .resumeAcknowledge, .disconnect, .restart, .release, .restartAcknowledge, .releaseComplete,
        .segment, .facility, .notify, .statusEnquiry, .congestionControl, .information, .status,
    ]

    /// Whether `type` is in `callControlTypes`, without hashing.
    @inline(__always)
    static func isCallControlType(_ type: Q931MessageType) -> Bool {
        switch type.rawValue {
        case 0x01, 0x02, 0x03, 0x05, 0x07, 0x0D, 0x0F, 0x20, 0x21, 0x22, 0x25, 0x26, 0x2D, 0x2E,
             0x45, 0x46, 0x4D, 0x4E, 0x5A, 0x60, 0x62, 0x6E, 0x75, 0x79, 0x7B, 0x7D:
            return true
        default:
            return false
        }
    }

    public var name: String {
        switch rawValue {
        case 0x01: return "ALERTING"
        case 0x02: return "CALL PROCEEDING"
        case 0x03: return "PROGRESS"
        case 0x05: return "SETUP"
        case 0x07: return "CONNECT"
        case 0x0D: return "SETUP ACKNOWLEDGE"
        case 0x0F: return "CONNECT ACKNOWLEDGE"
        case 0x20: return "USER INFORMATION"
        case 0x21: return "SUSPEND REJECT"
        case 0x22: return "RESUME REJECT"
        case 0x25: return "SUSPEND"
        case 0x26: return "RESUME"
        case 0x2D: return "SUSPEND ACKNOWLEDGE"
        case 0x2E: return "RESUME ACKNOWLEDGE"
        case 0x45: return "DISCONNECT"
        case 0x46: return "RESTART"
        case 0x4D: return "RELEASE"
        case 0x4E: return "RESTART ACKNOWLEDGE"
        case 0x5A: return "RELEASE COMPLETE"
        case 0x60: return "SEGMENT"
        case 0x62: return "FACILITY"
        case 0x6E: return "NOTIFY"
        case 0x75: return "STATUS ENQUIRY"
        case 0x79: return "CONGESTION CONTROL"
        case 0x7B: return "INFORMATION"
        case 0x7D: return "STATUS"
        default: return "UNKNOWN"
        }
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "\(name) (0x\(rawValue < 0x10 ? "0" : "")\(hex))"
    }
}
