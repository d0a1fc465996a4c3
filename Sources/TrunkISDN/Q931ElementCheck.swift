/// The result of checking a message's information elements against Q.931 §5.8.5-§5.8.7.
struct Q931ElementCheck {
    struct Fatal {
        var cause: Q850Cause
        var identifier: UInt8

        func error(_ type: Q931MessageType) -> Q931ProtocolError {
            switch cause {
            case .invalidInformationElementContents: return .invalidElement(type, identifier: identifier)
            case .mandatoryInformationElementMissing: return .mandatoryElementMissing(type, identifier: identifier)
            default: return .unrecognizedElement(type, identifier: identifier)
            }
        }
    }

    struct Recoverable {
        var cause: Q850Cause
        var identifiers: [UInt8]

        func error(_ type: Q931MessageType) -> Q931ProtocolError {
            cause == .invalidInformationElementContents
                ? .invalidElement(type, identifier: identifiers.first ?? 0)
                : .unrecognizedElement(type, identifier: identifiers.first ?? 0)
        }
    }

    /// A problem that stops the message being acted on (cause 96 or 100).
    var fatal: Fatal?
    /// A problem reported with STATUS after acting on the message (cause 99 or 100).
    var optional: Recoverable?

    /// Mandatory elements this stack checks, per message type (Q.931 §3.1).
    static func mandatoryElements(of type: Q931MessageType) -> [UInt8] {
        switch type {
        case .setup: return [Q931ElementIdentifier.bearerCapability]
        case .disconnect: return [Q931ElementIdentifier.cause]
        case .status: return [Q931ElementIdentifier.cause, Q931ElementIdentifier.callState]
        case .restart: return [Q931ElementIdentifier.restartIndicator]
        case .notify: return [Q931ElementIdentifier.notificationIndicator]
        case .progress: return [Q931ElementIdentifier.progressIndicator]
        case .resumeAcknowledge: return [Q931ElementIdentifier.channelIdentification]
        case .suspendReject, .resumeReject: return [Q931ElementIdentifier.cause]
        default: return []
        }
    }

    /// `mandatoryElements(of:)` for every message type octet, worked out once.
    private static let mandatoryByType: [[UInt8]] = (0..<128).map { mandatoryElements(of: Q931MessageType(rawValue: UInt8($0))) }

    init(_ message: Q931Message) {
        let mandatory = Q931ElementCheck.mandatoryByType[Int(message.messageType.rawValue & 0x7F)]
        // Nearly every message has only known, well-formed elements: then only presence needs
        // checking, and nothing is built.
        if !message.informationElements.contains(where: \.isRawElement) {
            for identifier in mandatory
            where !message.informationElements.contains(where: { $0.identifier == identifier }) {
                fatal = Fatal(cause: .mandatoryInformationElementMissing, identifier: identifier)
                return
            }
            return
        }
        let invalid = message.invalidElements
        for identifier in mandatory {
            if invalid.contains(where: { $0.identifier == identifier }) {
                fatal = Fatal(cause: .invalidInformationElementContents, identifier: identifier)
                break
            }
            if !message.informationElements.contains(where: { $0.identifier == identifier && $0.codeset == 0 }) {
                fatal = Fatal(cause: .mandatoryInformationElementMissing, identifier: identifier)
                break
            }
        }
        let unrecognized = message.unrecognizedElements
        if fatal == nil, let required = unrecognized.first(where: \.isComprehensionRequired) {
            // Q.931 §5.8.7.1: treated like a missing mandatory element.
            fatal = Fatal(cause: .mandatoryInformationElementMissing, identifier: required.identifier)
        }
        let invalidOptional = invalid.filter { !mandatory.contains($0.identifier) }.map(\.identifier)
        let unknownOptional = unrecognized.filter { !$0.isComprehensionRequired && $0.codeset == 0 }.map(\.identifier)
        if !invalidOptional.isEmpty {
            optional = Recoverable(cause: .invalidInformationElementContents, identifiers: invalidOptional)
        } else if !unknownOptional.isEmpty {
            optional = Recoverable(cause: .informationElementNonExistent, identifiers: unknownOptional)
        }
    }
}
