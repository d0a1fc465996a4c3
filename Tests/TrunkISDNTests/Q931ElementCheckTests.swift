import Testing
@testable import TrunkISDN

/// The verdicts of Q.931 §5.8.5-§5.8.7 on a message's elements, pinned case by case, so the
/// check can be made cheaper without any verdict changing.
@Suite("Q931ElementCheck")
struct Q931ElementCheckTests {
    private static let cr = Q931CallReference(value: 1, flag: true)

    private static func check(_ type: Q931MessageType, _ elements: [Q931InformationElement]) -> Q931ElementCheck {
        Q931ElementCheck(Q931Message(type, callReference: cr, informationElements: elements))
    }

    private static func unknown(_ identifier: UInt8, codeset: UInt8 = 0) -> Q931InformationElement {
        .unrecognized(RawInformationElement(codeset: codeset, identifier: identifier, contents: [1]))
    }

    private static func broken(_ identifier: UInt8, codeset: UInt8 = 0) -> Q931InformationElement {
        .invalid(RawInformationElement(codeset: codeset, identifier: identifier, contents: [0x80]), .truncated)
    }

    private static let cause = Q931InformationElement.cause(CauseElement(.normalCallClearing, location: .user))
    private static let callState = Q931InformationElement.callState(CallStateElement(value: 10))
    private static let bearer = Q931InformationElement.bearerCapability(.speechALaw)

    @Test("well-formed messages with their mandatory elements pass with nothing to report")
    func clean() {
        for (type, elements) in [
            (Q931MessageType.setup, [Self.bearer, .calledPartyNumber(PartyNumber(digits: "1"))]),
            (.disconnect, [Self.cause]),
            (.status, [Self.cause, Self.callState]),
            (.connect, []),
            (.releaseComplete, []),
            (.alerting, [.channelIdentification(.primary(channel: 3, exclusive: true)), .sendingComplete]),
        ] {
            let check = Self.check(type, elements)
            #expect(check.fatal == nil, "\(type)")
            #expect(check.optional == nil, "\(type)")
        }
    }

    @Test("a missing mandatory element is cause 96 naming the first missing one in Q.931's order")
    func missingMandatory() {
        let setup = Self.check(.setup, [.sendingComplete])
        #expect(setup.fatal?.cause == .mandatoryInformationElementMissing)
        #expect(setup.fatal?.identifier == Q931ElementIdentifier.bearerCapability)
        let status = Self.check(.status, [])
        #expect(status.fatal?.identifier == Q931ElementIdentifier.cause)
        let statusNoState = Self.check(.status, [Self.cause])
        #expect(statusNoState.fatal?.identifier == Q931ElementIdentifier.callState)
        let statusNoCause = Self.check(.status, [Self.callState])
        #expect(statusNoCause.fatal?.identifier == Q931ElementIdentifier.cause)
        #expect(Self.check(.restart, []).fatal?.identifier == Q931ElementIdentifier.restartIndicator)
        #expect(Self.check(.resumeAcknowledge, []).fatal?.identifier == Q931ElementIdentifier.channelIdentification)
    }

    @Test("a mandatory element outside codeset 0 does not count as present")
    func mandatoryInOtherCodeset() {
        let check = Self.check(.disconnect, [Self.unknown(Q931ElementIdentifier.cause, codeset: 6)])
        #expect(check.fatal?.cause == .mandatoryInformationElementMissing)
        #expect(check.fatal?.identifier == Q931ElementIdentifier.cause)
    }

    @Test("an invalid mandatory element is cause 100; an invalid optional one is reported after")
    func invalidElements() {
        let mandatory = Self.check(.disconnect, [Self.broken(Q931ElementIdentifier.cause)])
        #expect(mandatory.fatal?.cause == .invalidInformationElementContents)
        #expect(mandatory.fatal?.identifier == Q931ElementIdentifier.cause)
        #expect(mandatory.optional == nil)
        let optional = Self.check(.alerting, [Self.broken(0x1E), Self.broken(0x18)])
        #expect(optional.fatal == nil)
        #expect(optional.optional?.cause == .invalidInformationElementContents)
        #expect(optional.optional?.identifiers == [0x1E, 0x18])
    }

    @Test("an unknown comprehension-required element is cause 96, an unknown optional one cause 99")
    func unknownElements() {
        let required = Self.check(.connect, [Self.unknown(0x0B)])
        #expect(required.fatal?.cause == .mandatoryInformationElementMissing)
        #expect(required.fatal?.identifier == 0x0B)
        let optional = Self.check(.connect, [Self.unknown(0x73), Self.unknown(0x20, codeset: 6), Self.unknown(0x7E)])
        #expect(optional.fatal == nil)
        #expect(optional.optional?.cause == .informationElementNonExistent)
        #expect(optional.optional?.identifiers == [0x73, 0x7E], "other codesets are not reported")
        let otherCodeset = Self.check(.connect, [Self.unknown(0x01, codeset: 5)])
        #expect(otherCodeset.fatal == nil && otherCodeset.optional == nil, "comprehension is required only in codeset 0")
    }

    @Test("a missing mandatory element is reported before an unknown required one; invalid before unknown")
    func precedence() {
        let both = Self.check(.setup, [Self.unknown(0x0B)])
        #expect(both.fatal?.identifier == Q931ElementIdentifier.bearerCapability)
        let invalidAndUnknown = Self.check(.connect, [Self.unknown(0x73), Self.broken(0x1E)])
        #expect(invalidAndUnknown.optional?.cause == .invalidInformationElementContents)
        #expect(invalidAndUnknown.optional?.identifiers == [0x1E])
        let fatalAndOptional = Self.check(.setup, [Self.unknown(0x0B), Self.unknown(0x73), Self.bearer])
        #expect(fatalAndOptional.fatal?.identifier == 0x0B)
        #expect(fatalAndOptional.optional?.identifiers == [0x73])
    }
}

extension Q931ElementCheckTests {
    @Test("the mandatory set of every message type holds exactly the mandatory list")
    func mandatorySetMatchesList() {
        for octet in UInt8(0)..<128 {
            let type = Q931MessageType(rawValue: octet)
            var fromList = Q931IdentifierSet()
            for identifier in Q931ElementCheck.mandatoryElements(of: type) { fromList.insert(identifier) }
            #expect(Q931ElementCheck.mandatorySet(of: type) == fromList, "\(type)")
            #expect(Q931ElementCheck.mandatoryElements(of: type) == Q931ElementCheck.mandatoryElements(of: type).sorted(),
                    "the lowest missing identifier must be the first in Q.931's order")
        }
    }
}

extension Q931ElementCheckTests {
    /// The fatal and optional verdicts as comparable values.
    private static func verdict(_ check: Q931ElementCheck) -> [String] {
        [check.fatal.map { "\($0.cause) \($0.identifier)" } ?? "-",
         check.optional.map { "\($0.cause) \($0.identifiers)" } ?? "-"]
    }

    @Test("the summary the decoder notes equals one worked out from the decoded elements, and the check gives the same verdict with either")
    func decoderSummary() throws {
        let cases: [(Q931MessageType, [Q931InformationElement])] = [
            (.setup, [Self.bearer, .channelIdentification(.primary(channel: 3, exclusive: true)),
                      .calledPartyNumber(PartyNumber(digits: "1234")), .sendingComplete]),
            (.setup, [.calledPartyNumber(PartyNumber(digits: "1"))]),
            (.setup, [Self.broken(0x04), Self.unknown(0x20)]),
            (.disconnect, [Self.cause, Self.unknown(0x0F)]),
            (.disconnect, [Self.unknown(0x08, codeset: 6)]),
            (.status, [Self.callState, Self.broken(0x1E)]),
            (.releaseComplete, []),
            (.connect, [Self.unknown(0x7E, codeset: 5), .progressIndicator(ProgressIndicator(.inBandInformationAvailable, location: .user))]),
        ]
        for (type, elements) in cases {
            let octets = try Q931Message(type, callReference: Self.cr, informationElements: elements).encoded()
            var decoded = Q931Message.empty
            var noted = Q931ElementSummary()
            try Q931Message.decode(octets[...], into: &decoded, summary: &noted)
            let worked = Q931ElementSummary(decoded.informationElements)
            #expect(noted == worked, "\(type) \(elements)")
            #expect(Self.verdict(Q931ElementCheck(decoded, noted)) == Self.verdict(Q931ElementCheck(decoded)), "\(type) \(elements)")
        }
        // The cases above must reach both kinds of summary.
        let raw = try Q931Message(.setup, callReference: Self.cr, informationElements: [Self.unknown(0x20)]).encoded()
        var message = Q931Message.empty
        var summary = Q931ElementSummary()
        try Q931Message.decode(raw[...], into: &message, summary: &summary)
        #expect(summary.hasRawElement)
        #expect(Q931ElementCheck(message, summary).optional?.identifiers == [0x20])
    }
}
