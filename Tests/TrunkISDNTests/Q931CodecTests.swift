import Testing
@testable import TrunkISDN

@Suite("Q.931 message codec")
struct Q931CodecTests {
    static let callReference = Q931CallReference(value: 0x1234, flag: true)

    /// One example of every information element, in canonical form.
    static let everyElement: [Q931InformationElement] = [
        .bearerCapability(.speechALaw),
        .bearerCapability(BearerCapability(transferCapability: .unrestrictedDigital, transferRate: .multirate, rateMultiplier: 6)),
        .bearerCapability(BearerCapability(transferCapability: .audio3_1kHz, userInformationLayer1: .v110, layer1Extension: [0x48, 0xBB], trailingOctets: [0x42, 0x66])),
        .channelIdentification(.primary(channel: 17, exclusive: true)),
        .channelIdentification(ChannelIdentification(exclusive: false, selection: .channelNumbers([1, 2, 3]))),
        .channelIdentification(ChannelIdentification(exclusive: false, selection: .anyChannel)),
        .channelIdentification(ChannelIdentification(exclusive: true, dChannel: true, selection: .noChannel)),
        .channelIdentification(ChannelIdentification(exclusive: true, interfaceIdentifier: [0x81], selection: .channelNumbers([31]))),
        .channelIdentification(ChannelIdentification(exclusive: true, selection: .slotMap([0xFF, 0x00, 0x0F]))),
        .channelIdentification(ChannelIdentification(interfaceType: .basic, exclusive: true, selection: .basicChannel(2))),
        .callingPartyNumber(PartyNumber(digits: "8613800138000", typeOfNumber: .international, numberingPlan: .isdn,
                                        presentation: .init(presentation: .restricted, screening: .userProvidedVerifiedAndPassed))),
        .calledPartyNumber(PartyNumber(digits: "10086", typeOfNumber: .national, numberingPlan: .isdn)),
        .connectedNumber(PartyNumber(digits: "4001", typeOfNumber: .subscriber, numberingPlan: .private, presentation: .allowedNetworkProvided)),
        .redirectingNumber(PartyNumber(digits: "5550000", presentation: .allowedUserNotScreened, redirectionReason: 0x0F)),
        .cause(CauseElement(.userBusy, location: .publicNetworkServingRemoteUser)),
        .cause(CauseElement(.mandatoryInformationElementMissing, location: .user, recommendation: 0, diagnostics: [0x18])),
        .progressIndicator(ProgressIndicator(.inBandInformationAvailable, location: .privateNetworkServingLocalUser)),
        .display(Array("Trunkline Call Centre".utf8)),
        .keypadFacility(Array("*21#".utf8)),
        .sendingComplete,
        .dateTime(DateTimeElement(year: 26, month: 11, day: 22, hour: 13, minute: 45, second: 7)),
        .dateTime(DateTimeElement(year: 99, month: 1, day: 2, hour: 3, minute: 4)),
        .highLayerCompatibility(.telephony),
        .highLayerCompatibility(HighLayerCompatibility(characteristics: 0x5E, extendedCharacteristics: 0x01)),
        .lowLayerCompatibility([0x88, 0x90]),
        .callState(CallStateElement(value: 25)),
        .restartIndicator(RestartIndicator(.indicatedChannels)),
        .restartIndicator(RestartIndicator(.allInterfaces)),
        .notificationIndicator(NotificationIndicator(description: 1)),
        .facility([0x91, 0xA1, 0x03, 0x02, 0x01, 0x05]),
        .callIdentity([0x31, 0x32]),
        .unrecognized(RawInformationElement(codeset: 0, identifier: 0x73, contents: [1, 2])),
        .unrecognized(RawInformationElement(codeset: 0, identifier: 0x02, contents: [9])),
        .unrecognized(RawInformationElement(codeset: 6, identifier: 0x20, contents: [7, 7])),
        .unrecognized(RawInformationElement(codeset: 0, identifier: 0xB3)),
    ]

    @Test("every information element survives encode/decode", arguments: Array(everyElement.indices))
    func elementRoundTrip(index: Int) throws {
        let element = Self.everyElement[index]
        let message = Q931Message(.information, callReference: Self.callReference, informationElements: [element])
        let decoded = try Q931Message.decode(try message.encoded())
        #expect(decoded.informationElements == [element])
    }

    static let allTypes: [Q931MessageType] = [
        .alerting, .callProceeding, .progress, .setup, .connect, .setupAcknowledge, .connectAcknowledge,
        .userInformation, .suspendReject, .resumeReject, .suspend, .resume, .suspendAcknowledge, .resumeAcknowledge,
        .disconnect, .restart, .release, .restartAcknowledge, .releaseComplete, .segment, .facility, .notify,
        .statusEnquiry, .congestionControl, .information, .status,
    ]

    @Test("every message type survives encode/decode with its usual elements", arguments: allTypes)
    func messageRoundTrip(type: Q931MessageType) throws {
        let elements: [Q931InformationElement]
        switch type {
        case .setup:
            elements = [.bearerCapability(.speechALaw), .channelIdentification(.primary(channel: 1, exclusive: true)),
                        .callingPartyNumber(PartyNumber(digits: "123", presentation: .allowedUserNotScreened)),
                        .calledPartyNumber(PartyNumber(digits: "456")), .sendingComplete]
        case .disconnect, .release, .releaseComplete:
            elements = [.cause(CauseElement(.normalCallClearing, location: .user))]
        case .status:
            elements = [.cause(CauseElement(.responseToStatusEnquiry, location: .user)), .callState(CallStateElement(value: 10))]
        case .restart, .restartAcknowledge:
            elements = [.channelIdentification(.primary(channel: 5, exclusive: true)), .restartIndicator(RestartIndicator(.indicatedChannels))]
        case .notify:
            elements = [.notificationIndicator(NotificationIndicator(description: 0))]
        case .progress, .alerting:
            elements = [.progressIndicator(ProgressIndicator(.inBandInformationAvailable, location: .user))]
        case .connect:
            elements = [.channelIdentification(.primary(channel: 30, exclusive: true)), .connectedNumber(PartyNumber(digits: "1"))]
        case .information:
            elements = [.calledPartyNumber(PartyNumber(digits: "7")), .sendingComplete]
        case .facility:
            elements = [.facility([0x91, 0x00])]
        default:
            elements = []
        }
        let message = Q931Message(type, callReference: Self.callReference, informationElements: elements)
        let bytes = try message.encoded()
        #expect(bytes[0] == 0x08)
        #expect(bytes[4] == type.rawValue)
        #expect(try Q931Message.decode(bytes) == message)
    }

    @Test("a SETUP as Asterisk/libpri sends it decodes to the right fields")
    func knownSetup() throws {
        let bytes: [UInt8] = [
            0x08, 0x02, 0x00, 0x01, 0x05,               // PD, CR length 2, CR 1 (flag 0), SETUP
            0x04, 0x03, 0x80, 0x90, 0xA3,               // bearer: speech, circuit 64 kbit/s, G.711 A-law
            0x18, 0x03, 0xA9, 0x83, 0x81,               // channel: PRI, exclusive, B-channel 1
            0x28, 0x05, 0x41, 0x6C, 0x69, 0x63, 0x65,   // display "Alice"
            0x6C, 0x09, 0x21, 0x81, 0x35, 0x35, 0x35, 0x31, 0x32, 0x33, 0x34, // calling: national, ISDN, allowed, user verified, 5551234
            0x70, 0x05, 0xC1, 0x31, 0x30, 0x30, 0x30,   // called: subscriber, ISDN, 1000
            0xA1,                                       // sending complete
        ]
        let message = try Q931Message.decode(bytes)
        #expect(message.messageType == .setup)
        #expect(message.callReference == Q931CallReference(value: 1, flag: false))
        #expect(message.bearerCapability == .speechALaw)
        #expect(message.channelIdentification == .primary(channel: 1, exclusive: true))
        #expect(message.channelIdentification?.channelNumber == 1)
        #expect(message.display == "Alice")
        let calling = try #require(message.callingPartyNumber)
        #expect(calling.digits == "5551234")
        #expect(calling.typeOfNumber == .national)
        #expect(calling.numberingPlan == .isdn)
        #expect(calling.presentation == .init(presentation: .allowed, screening: .userProvidedVerifiedAndPassed))
        let called = try #require(message.calledPartyNumber)
        #expect(called.digits == "1000")
        #expect(called.typeOfNumber == .subscriber)
        #expect(called.presentation == nil)
        #expect(message.hasSendingComplete)
        #expect(try message.encoded() == bytes, "re-encodes byte for byte")
    }

    @Test("a DISCONNECT with cause 16 from the user decodes")
    func knownDisconnect() throws {
        let bytes: [UInt8] = [0x08, 0x02, 0x80, 0x01, 0x45, 0x08, 0x02, 0x80, 0x90, 0x1E, 0x02, 0x81, 0x88]
        let message = try Q931Message.decode(bytes)
        #expect(message.messageType == .disconnect)
        #expect(message.callReference.flag)
        #expect(message.cause?.value == .normalCallClearing)
        #expect(message.cause?.location == .user)
        #expect(message.progressIndicators == [ProgressIndicator(.inBandInformationAvailable, location: .privateNetworkServingLocalUser)])
        #expect(try message.encoded() == bytes)
    }

    @Test("RESTART on the global call reference for the whole interface")
    func knownRestart() throws {
        let bytes: [UInt8] = [0x08, 0x02, 0x00, 0x00, 0x46, 0x79, 0x01, 0x87]
        let message = try Q931Message.decode(bytes)
        #expect(message.callReference.isGlobal)
        #expect(message.restartIndicator?.restartClass == .allInterfaces)
    }

    @Test("codeset shifts: locking to 5, non-locking to 6, back to the locked codeset")
    func codesetShifts() throws {
        let bytes: [UInt8] = [
            0x08, 0x02, 0x00, 0x07, 0x7B,
            0x70, 0x02, 0x80, 0x31,     // codeset 0 called number
            0x9E, 0x01, 0x01, 0xAA,     // non-locking shift to 6, one element
            0x70, 0x02, 0x80, 0x32,     // codeset 0 again
            0x95,                       // locking shift to 5
            0x01, 0x01, 0xBB,           // national element
            0x70, 0x01, 0x33,           // still codeset 5
            0x93,                       // locking shift to a lower codeset is ignored
            0x02, 0x00,
        ]
        let message = try Q931Message.decode(bytes)
        #expect(message.informationElements == [
            .calledPartyNumber(PartyNumber(digits: "1", numberingPlan: .unknown)),
            .unrecognized(RawInformationElement(codeset: 6, identifier: 0x01, contents: [0xAA])),
            .calledPartyNumber(PartyNumber(digits: "2", numberingPlan: .unknown)),
            .unrecognized(RawInformationElement(codeset: 5, identifier: 0x01, contents: [0xBB])),
            .unrecognized(RawInformationElement(codeset: 5, identifier: 0x70, contents: [0x33])),
            .unrecognized(RawInformationElement(codeset: 5, identifier: 0x02, contents: [])),
        ])
        #expect(message.unrecognizedElements.allSatisfy { !$0.isComprehensionRequired })
        // Re-encoding uses a non-locking shift per element; the decoded meaning is the same.
        #expect(try Q931Message.decode(try message.encoded()) == message)
    }

    @Test("unknown codeset 0 elements are kept and flagged when comprehension is required")
    func comprehensionRequired() throws {
        let bytes: [UInt8] = [0x08, 0x02, 0x00, 0x07, 0x7B, 0x0A, 0x01, 0x55, 0x73, 0x00]
        let message = try Q931Message.decode(bytes)
        #expect(message.unrecognizedElements.map(\.isComprehensionRequired) == [true, false])
        #expect(try message.encoded() == bytes)
    }

    @Test("known elements with bad contents are kept as invalid")
    func invalidContents() throws {
        let bytes: [UInt8] = [0x08, 0x02, 0x00, 0x07, 0x05, 0x04, 0x01, 0x80, 0x08, 0x01, 0x80, 0x79, 0x01, 0x83]
        let message = try Q931Message.decode(bytes)
        #expect(message.invalidElements.map(\.identifier) == [0x04, 0x08, 0x79])
        #expect(message.bearerCapability == nil)
        #expect(try message.encoded() == bytes, "invalid elements travel through unchanged")
    }

    @Test("header problems are typed errors")
    func headerErrors() {
        #expect(throws: Q931DecodingError.empty) { try Q931Message.decode([]) }
        #expect(throws: Q931DecodingError.unsupportedProtocolDiscriminator(0x09)) { try Q931Message.decode([0x09, 0x02, 0, 1, 5]) }
        #expect(throws: Q931DecodingError.invalidCallReferenceLength(3)) { try Q931Message.decode([0x08, 0x03, 0, 1, 2, 5]) }
        #expect(throws: Q931DecodingError.truncatedHeader) { try Q931Message.decode([0x08, 0x02, 0x00]) }
        #expect(throws: Q931DecodingError.truncatedHeader) { try Q931Message.decode([0x08, 0x02, 0x00, 0x01]) }
        #expect(throws: Q931DecodingError.invalidMessageType(0x85)) { try Q931Message.decode([0x08, 0x02, 0x00, 0x01, 0x85]) }
        #expect(throws: Q931DecodingError.truncatedElement(identifier: 0x70)) { try Q931Message.decode([0x08, 0x02, 0x00, 0x01, 0x05, 0x70, 0x05, 0x80]) }
        #expect(throws: Q931DecodingError.truncatedElement(identifier: 0x70)) { try Q931Message.decode([0x08, 0x02, 0x00, 0x01, 0x05, 0x70]) }
    }

    @Test("one- and zero-octet call references and SERVICE under discriminator 0x03")
    func otherHeaders() throws {
        let bri = try Q931Message.decode([0x08, 0x01, 0x85, 0x4D])
        #expect(bri.callReference == Q931CallReference(value: 5, flag: true, length: 1))
        #expect(try bri.encoded() == [0x08, 0x01, 0x85, 0x4D])
        let dummy = try Q931Message.decode([0x08, 0x00, 0x62])
        #expect(dummy.callReference.isDummy)
        let service = try Q931Message.decode([0x03, 0x02, 0x00, 0x09, 0x0F])
        #expect(service.protocolDiscriminator == Q931Message.maintenanceProtocolDiscriminator)
        #expect(service.messageType == .service)
    }

    @Test("an element over 255 octets is an encoding error, not a crash")
    func overlongElement() {
        let message = Q931Message(.information, callReference: Self.callReference,
                                  informationElements: [.display([UInt8](repeating: 0x41, count: 300))])
        #expect(throws: Q931EncodingError.elementTooLong(identifier: 0x28, length: 300)) { try message.encoded() }
        var buffer: [UInt8] = [0xEE]
        #expect(throws: Q931EncodingError.self) { try message.encode(into: &buffer) }
        #expect(buffer == [0xEE], "a failed encoding leaves the buffer as it was")
    }

    @Test("encoding into a reserved buffer reuses its storage")
    func steadyStateEncoding() throws {
        let message = Q931Message(.setup, callReference: Self.callReference, informationElements: [
            .bearerCapability(.speechALaw), .channelIdentification(.primary(channel: 1, exclusive: true)),
            .calledPartyNumber(PartyNumber(digits: "10086")), .sendingComplete,
        ])
        var buffer: [UInt8] = []
        buffer.reserveCapacity(260)
        let storage = buffer.withUnsafeBufferPointer { $0.baseAddress }
        for _ in 0..<100 {
            buffer.removeAll(keepingCapacity: true)
            try message.encode(into: &buffer)
        }
        #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == storage)
    }

    @Test("Q.850 causes have text and a class")
    func causes() {
        #expect(Q850Cause.normalCallClearing.text == "Normal call clearing")
        #expect(Q850Cause.temporaryFailure.rawValue == 41)
        #expect(Q850Cause.requestedChannelNotAvailable.causeClass == 2)
        #expect(Q850Cause(rawValue: 0x90) == .normalCallClearing)
        let named: [UInt8] = [1, 3, 6, 16, 17, 18, 19, 21, 22, 27, 28, 31, 34, 38, 41, 42, 44, 47, 50, 57, 58, 63, 65, 66, 69,
                              79, 81, 82, 85, 88, 95, 96, 97, 98, 99, 100, 101, 102, 111, 127]
        for value in named {
            #expect(!Q850Cause(rawValue: value).text.hasPrefix("Cause "), "cause \(value) has text")
        }
        #expect(Q850Cause(rawValue: 120).text == "Cause 120")
    }
}

@Suite("message type table")
struct Q931MessageTypeTableTests {
    @Test("the call control type check matches callControlTypes for every octet")
    func callControlTypes() {
        for raw in 0...255 {
            let type = Q931MessageType(rawValue: UInt8(raw))
            #expect(Q931MessageType.isCallControlType(type) == Q931MessageType.callControlTypes.contains(type))
        }
    }
}
