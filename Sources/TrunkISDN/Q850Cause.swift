/// An ITU-T Q.850 cause value: why a call was cleared or a message was rejected.
///
/// A struct rather than an enum so that values we do not name (national or
/// future causes) still travel through unchanged.
public struct Q850Cause: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 7-bit cause value.
    public let rawValue: UInt8

    /// Keeps only the low seven bits: the eighth bit is the extension bit of the octet.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue & 0x7F
    }

    public static let unallocatedNumber = Q850Cause(rawValue: 1)
    public static let noRouteToTransitNetwork = Q850Cause(rawValue: 2)
    public static let noRouteToDestination = Q850Cause(rawValue: 3)
    public static let channelUnacceptable = Q850Cause(rawValue: 6)
    /// The call was cleared to free its circuit for something that takes precedence (maintenance).
    public static let preemption = Q850Cause(rawValue: 8)
    public static let normalCallClearing = Q850Cause(rawValue: 16)
    public static let userBusy = Q850Cause(rawValue: 17)
    public static let noUserResponding = Q850Cause(rawValue: 18)
    public static let noAnswerFromUser = Q850Cause(rawValue: 19)
    public static let callRejected = Q850Cause(rawValue: 21)
    public static let numberChanged = Q850Cause(rawValue: 22)
    public static let destinationOutOfOrder = Q850Cause(rawValue: 27)
    public static let invalidNumberFormat = Q850Cause(rawValue: 28)
    public static let responseToStatusEnquiry = Q850Cause(rawValue: 30)
    public static let normalUnspecified = Q850Cause(rawValue: 31)
    public static let noCircuitAvailable = Q850Cause(rawValue: 34)
    public static let networkOutOfOrder = Q850Cause(rawValue: 38)
    public static let temporaryFailure = Q850Cause(rawValue: 41)
    public static let switchingEquipmentCongestion = Q850Cause(rawValue: 42)
    public static let requestedChannelNotAvailable = Q850Cause(rawValue: 44)
    public static let resourceUnavailable = Q850Cause(rawValue: 47)
    public static let facilityNotSubscribed = Q850Cause(rawValue: 50)
    public static let bearerCapabilityNotAuthorized = Q850Cause(rawValue: 57)
    public static let bearerCapabilityNotAvailable = Q850Cause(rawValue: 58)
    public static let serviceOrOptionNotAvailable = Q850Cause(rawValue: 63)
    public static let bearerCapabilityNotImplemented = Q850Cause(rawValue: 65)
    public static let channelTypeNotImplemented = Q850Cause(rawValue: 66)
    public static let facilityNotImplemented = Q850Cause(rawValue: 69)
    public static let serviceOrOptionNotImplemented = Q850Cause(rawValue: 79)
    public static let invalidCallReference = Q850Cause(rawValue: 81)
    public static let identifiedChannelDoesNotExist = Q850Cause(rawValue: 82)
    public static let callIdentityCleared = Q850Cause(rawValue: 85)
    public static let incompatibleDestination = Q850Cause(rawValue: 88)
    public static let invalidMessageUnspecified = Q850Cause(rawValue: 95)
    public static let mandatoryInformationElementMissing = Q850Cause(rawValue: 96)
    public static let messageTypeNonExistent = Q850Cause(rawValue: 97)
    public static let messageNotCompatibleWithCallState = Q850Cause(rawValue: 98)
    public static let informationElementNonExistent = Q850Cause(rawValue: 99)
    public static let invalidInformationElementContents = Q850Cause(rawValue: 100)
    public static let messageNotCompatibleWithState = Q850Cause(rawValue: 101)
    public static let recoveryOnTimerExpiry = Q850Cause(rawValue: 102)
    public static let protocolErrorUnspecified = Q850Cause(rawValue: 111)
    public static let interworkingUnspecified = Q850Cause(rawValue: 127)

    /// The cause class (bits 7-5): 0-1 normal, 2 resource unavailable, 3 service not
    /// available, 4 service not implemented, 5 invalid message, 6 protocol error, 7 interworking.
    public var causeClass: UInt8 { rawValue >> 4 }

    /// The English text Q.850 gives the cause, for logs and `trunkctl` output.
    public var text: String {
        switch rawValue {
        case 1: return "Unallocated (unassigned) number"
        case 2: return "No route to specified transit network"
        case 3: return "No route to destination"
        case 6: return "Channel unacceptable"
        case 8: return "Preemption"
        case 16: return "Normal call clearing"
        case 17: return "User busy"
        case 18: return "No user responding"
        case 19: return "No answer from user (user alerted)"
        case 21: return "Call rejected"
        case 22: return "Number changed"
        case 27: return "Destination out of order"
        case 28: return "Invalid number format (address incomplete)"
        case 30: return "Response to STATUS ENQUIRY"
        case 31: return "Normal, unspecified"
        case 34: return "No circuit/channel available"
        case 38: return "Network out of order"
        case 41: return "Temporary failure"
        case 42: return "Switching equipment congestion"
        case 44: return "Requested circuit/channel not available"
        case 47: return "Resource unavailable, unspecified"
        case 50: return "Requested facility not subscribed"
        case 57: return "Bearer capability not authorized"
        case 58: return "Bearer capability not presently available"
        case 63: return "Service or option not available, unspecified"
        case 65: return "Bearer capability not implemented"
        case 66: return "Channel type not implemented"
        case 69: return "Requested facility not implemented"
        case 79: return "Service or option not implemented, unspecified"
        case 81: return "Invalid call reference value"
        case 82: return "Identified channel does not exist"
        case 85: return "Call identity cleared"
        case 88: return "Incompatible destination"
        case 95: return "Invalid message, unspecified"
        case 96: return "Mandatory information element is missing"
        case 97: return "Message type non-existent or not implemented"
        case 98: return "Message not compatible with call state or message type non-existent or not implemented"
        case 99: return "Information element/parameter non-existent or not implemented"
        case 100: return "Invalid information element contents"
        case 101: return "Message not compatible with call state"
        case 102: return "Recovery on timer expiry"
        case 111: return "Protocol error, unspecified"
        case 127: return "Interworking, unspecified"
        default: return "Cause \(rawValue)"
        }
    }

    public var description: String { "\(rawValue) (\(text))" }

    /// Where the cause was generated (the location field of the Cause information element).
    public enum Location: UInt8, Hashable, Sendable, CaseIterable {
        case user = 0
        case privateNetworkServingLocalUser = 1
        case publicNetworkServingLocalUser = 2
        case transitNetwork = 3
        case publicNetworkServingRemoteUser = 4
        case privateNetworkServingRemoteUser = 5
        case internationalNetwork = 7
        case networkBeyondInterworkingPoint = 10
    }
}
