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

    /// `mandatoryElements(of:)` as a set. Ascending identifier order is the order of the list
    /// for every type with more than one, so the lowest missing one is the first missing one.
    @inline(__always)
    static func mandatorySet(of type: Q931MessageType) -> Q931IdentifierSet {
        // On the octet, like `Q931MessageType.isCallControlType`, so the switch is a jump table.
        switch type.rawValue {
        case 0x05: return Q931IdentifierSet(Q931ElementIdentifier.bearerCapability)  // SETUP
        case 0x45, 0x21, 0x22: return Q931IdentifierSet(Q931ElementIdentifier.cause)  // DISCONNECT, SUSPEND/RESUME REJECT
        case 0x7D: return Q931IdentifierSet(Q931ElementIdentifier.cause, Q931ElementIdentifier.callState)  // STATUS
        case 0x46: return Q931IdentifierSet(Q931ElementIdentifier.restartIndicator)  // RESTART
        case 0x6E: return Q931IdentifierSet(Q931ElementIdentifier.notificationIndicator)  // NOTIFY
        case 0x03: return Q931IdentifierSet(Q931ElementIdentifier.progressIndicator)  // PROGRESS
        case 0x2E: return Q931IdentifierSet(Q931ElementIdentifier.channelIdentification)  // RESUME ACKNOWLEDGE
        default: return Q931IdentifierSet()
        }
    }

    /// Borrowed, not taken: as an owned argument every received message was copied to be checked.
    init(_ message: borrowing Q931Message) {
        self.init(message, Q931ElementSummary(message.informationElements))
    }

    /// Checks `message` with its elements already summarised (by the decoder, on the way).
    /// Inlined, so the common case is a few bit operations where the check is made; the rest
    /// is a call.
    @inline(__always)
    init(_ message: borrowing Q931Message, _ summary: Q931ElementSummary) {
        // Nearly every message has only known, well-formed elements, and then only presence
        // needs checking, and nothing is built.
        if !summary.hasRawElement {
            if let missing = Q931ElementCheck.mandatorySet(of: message.messageType).subtracting(summary.present).lowest {
                fatal = Fatal(cause: .mandatoryInformationElementMissing, identifier: missing)
            }
            return
        }
        self = Q931ElementCheck(withRawElements: message)
    }

    /// The check of a message with elements kept raw (unknown, in another codeset or invalid).
    @inline(never)
    private init(withRawElements message: borrowing Q931Message) {
        let mandatory = Q931ElementCheck.mandatoryElements(of: message.messageType)
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

/// What checking a message's elements needs to know first: which codeset 0 elements decoded
/// well, and whether any element was kept as octets (unknown, other codeset or invalid).
struct Q931ElementSummary: Equatable {
    var present = Q931IdentifierSet()
    var hasRawElement = false

    init() {}

    /// One pass over the elements, in place (the array's subscript would copy each one out).
    init(_ elements: borrowing [Q931InformationElement]) {
        var present = Q931IdentifierSet()
        var hasRawElement = false
        elements.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                if elements[index].isRawElement {
                    hasRawElement = true
                } else {
                    present.insert(elements[index].identifier)
                }
            }
        }
        self.present = present
        self.hasRawElement = hasRawElement
    }
}

/// A set of element identifiers below 0x80 (the variable-length ones) in two words.
struct Q931IdentifierSet: Equatable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    init() {}

    init(_ identifier: UInt8) {
        insert(identifier)
    }

    init(_ first: UInt8, _ second: UInt8) {
        insert(first)
        insert(second)
    }

    /// Single-octet identifiers (0x80 and above) are not kept.
    mutating func insert(_ identifier: UInt8) {
        guard identifier < 0x80 else { return }
        let bit = UInt64(1) << UInt64(identifier & 63)
        if identifier < 64 { low |= bit } else { high |= bit }
    }

    func subtracting(_ other: Q931IdentifierSet) -> Q931IdentifierSet {
        var result = self
        result.low &= ~other.low
        result.high &= ~other.high
        return result
    }

    /// The smallest identifier in the set, or nil if it is empty.
    var lowest: UInt8? {
        if low != 0 { return UInt8(low.trailingZeroBitCount) }
        if high != 0 { return UInt8(64 + high.trailingZeroBitCount) }
        return nil
    }
}
