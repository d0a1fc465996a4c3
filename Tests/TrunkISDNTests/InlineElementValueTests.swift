import Testing
@testable import TrunkISDN

/// Element values keep their variable parts (digits, channel lists, diagnostics, bearer
/// octets) inline: the limits, what happens past them, and round trips at the limits.
@Suite("Q.931 element values held inline")
struct InlineElementValueTests {
    static let callReference = Q931CallReference(value: 7, flag: false)

    /// A SETUP's octets with `called` as the called party number's contents.
    static func setupOctets(calledContents: [UInt8]) -> [UInt8] {
        [0x08, 0x02, 0x00, 0x07, 0x05,        // PD, CR length 2, CR 7, SETUP
         0x04, 0x03, 0x80, 0x90, 0xA3,        // bearer: speech, 64 kbit/s, A-law
         0x18, 0x03, 0xA9, 0x83, 0x81,        // channel: PRI, exclusive, B-channel 1
         0x70, UInt8(calledContents.count)] + calledContents
    }

    static func digits(_ count: Int) -> String {
        String((0..<count).map { Character(String($0 % 10)) })
    }

    /// Encodes one element in a message and decodes it back.
    static func roundTrip(_ element: Q931InformationElement) throws -> (Q931InformationElement?, [UInt8]) {
        let octets = try Q931Message(.information, callReference: callReference, informationElements: [element]).encoded()
        let decoded = try Q931Message.decode(octets)
        return (decoded.informationElements.first, octets)
    }

    // MARK: - The inline octet run

    @Test("an inline run takes octets up to its capacity and refuses the next one")
    func inlineCapacity() {
        var run = Q931InlineOctets<4>()
        #expect(Q931InlineOctets<4>.maximumCount == 31)
        #expect(Q931InlineOctets<1>.maximumCount == 7)
        for octet in 0..<31 {
            let appended = run.append(UInt8(octet + 1))
            #expect(appended)
        }
        let appended = run.append(0xFF)
        #expect(!appended, "the 32nd octet does not fit")
        #expect(run.count == 31 && run.last == 31)
        #expect(Array(run) == (1...31).map(UInt8.init))
        #expect(Q931InlineOctets<4>(Array(repeating: 0x55, count: 32)) == nil)
        #expect(Q931InlineOctets<4>(Array(repeating: 0x55, count: 32)[...]) == nil, "the slice path refuses too")
        #expect(Q931InlineOctets<1>([0xFF, 0x00, 0x80]).map(Array.init) == [0xFF, 0x00, 0x80])
    }

    @Test("equal runs are equal and hash alike, whatever the octet values; the count matters")
    func inlineEquality() {
        let a: Q931InlineOctets<2> = [0, 0, 7]
        let b = Q931InlineOctets<2>([0, 0, 7][...])!
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != [0, 0], "a shorter run of the same octets differs")
        #expect(a != [0, 0, 7, 0], "so does a longer one ending in zero")
        var c = a
        c[2] = 8
        #expect(c != a && c.description == "[0, 0, 8]")
    }

    @Test("element values hold no reference-counted storage")
    func valuesAreTrivial() {
        #expect(_isPOD(PartyNumber.self))
        #expect(_isPOD(BearerCapability.self))
        #expect(_isPOD(ChannelIdentification.self))
        #expect(_isPOD(CauseElement.self))
    }

    // MARK: - Party numbers

    @Test("the longest party number (31 digits) round-trips; so do 0, 1 and 15")
    func longestNumber() throws {
        #expect(PartyNumber.maximumDigitCount == 31)
        for count in [0, 1, 15, 31] {
            let number = PartyNumber(digits: Self.digits(count), typeOfNumber: .international, presentation: .allowedUserNotScreened)
            #expect(PartyNumber.fits(number.digits))
            let (decoded, octets) = try Self.roundTrip(.callingPartyNumber(number))
            #expect(decoded == .callingPartyNumber(number))
            #expect(octets.count == 5 + 2 + 2 + count, "header, identifier and length, octets 3 and 3a, digits")
            if case .callingPartyNumber(let back)? = decoded { #expect(back.digits == Self.digits(count)) }
        }
    }

    @Test("a received number of 32 digits is an invalid element kept as octets, not cut short")
    func overLongNumberDecode() throws {
        let contents: [UInt8] = [0x81] + Array(Self.digits(32).utf8)
        let octets = Self.setupOctets(calledContents: contents)
        let message = try Q931Message.decode(octets)
        #expect(message.calledPartyNumber == nil)
        guard case .invalid(let raw, let error)? = message.informationElements.last else {
            Issue.record("expected an invalid element, got \(String(describing: message.informationElements.last))")
            return
        }
        #expect(raw.identifier == Q931ElementIdentifier.calledPartyNumber)
        #expect(raw.contents == contents)
        #expect(error == .invalidField("party number of 32 digits, at most 31"))
        #expect(try message.encoded() == octets, "re-encodes byte for byte")
        #expect(!PartyNumber.fits(Self.digits(32)))
    }

    @Test("a SETUP with a 32-digit called number is offered without it and answered with STATUS cause 100")
    func overLongNumberAnswer() throws {
        var interface = Q931InterfaceTests.interface(.user)
        let setup = try Q931Message.decode(Self.setupOctets(calledContents: [0x81] + Array(Self.digits(32).utf8)))
        let actions = interface.messageReceived(setup, now: .zero)
        let offers = actions.indications.compactMap { if case .incomingCall(let call) = $0 { return call } else { return nil } }
        #expect(offers.count == 1 && offers.first?.calledNumber == nil)
        let status = actions.sentMessages.first { $0.messageType == .status }
        #expect(status?.cause?.value == .invalidInformationElementContents)
        #expect(status?.cause?.diagnostics == [Q931ElementIdentifier.calledPartyNumber])
    }

    @Test("encoding in place gives the array encoder's octets, and reports a buffer too small for the digits")
    func inPlaceEncoding() throws {
        let message = Q931Message(.setup, callReference: Self.callReference, informationElements: [
            .bearerCapability(.speechALaw),
            .callingPartyNumber(PartyNumber(digits: Self.digits(31), presentation: .allowedUserNotScreened)),
            .calledPartyNumber(PartyNumber(digits: "8610012345")),
        ])
        let expected = try message.encoded()
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 128)
        defer { buffer.deallocate() }
        guard case .written(let count) = message.encode(inPlace: buffer) else {
            Issue.record("expected the message to fit in 128 octets")
            return
        }
        #expect(Array(buffer[..<count]) == expected)
        // Cut inside the calling number's digits: the copy of the run must not run past the end.
        let short = UnsafeMutableBufferPointer(rebasing: buffer[..<20])
        guard case .overflowed = message.encode(inPlace: short) else {
            Issue.record("expected an overflow in 20 octets")
            return
        }
    }

    @Test("setting more digits than fit stops the process")
    func overLongNumberSet() async {
        await #expect(processExitsWith: .failure) {
            _ = PartyNumber(digits: String(repeating: "9", count: 32))
        }
        await #expect(processExitsWith: .failure) {
            var number = PartyNumber(digits: "1")
            number.digits = String(repeating: "9", count: 32)
        }
    }

    @Test("digits are IA5 octets: 8-bit values survive decode and encode; the setter replaces them")
    func digitOctets() throws {
        let contents: [UInt8] = [0xA1, 0x31, 0xE9, 0x7F]
        let message = try Q931Message.decode(Self.setupOctets(calledContents: contents))
        var number = try #require(message.calledPartyNumber)
        #expect(Array(number.digitOctets) == [0x31, 0xE9, 0x7F])
        #expect(number.digits.unicodeScalars.map(\.value) == [0x31, 0xE9, 0x7F])
        #expect(try message.encoded() == Self.setupOctets(calledContents: contents))
        number.digits = "4001"
        #expect(Array(number.digitOctets) == Array("4001".utf8))
        #expect(number == PartyNumber(digits: "4001", typeOfNumber: .national, numberingPlan: .isdn))
        #expect(PartyNumber(digits: "€1").digits == "?1", "a scalar past 0xFF is sent as ?, as before")
    }

    // MARK: - Channel identification

    @Test("31 channel numbers round-trip; 32 make the element invalid")
    func channelList() throws {
        let all = (1...31).map(UInt8.init)
        let element = Q931InformationElement.channelIdentification(ChannelIdentification(exclusive: true, selection: .channelNumbers(all)))
        let (decoded, _) = try Self.roundTrip(element)
        #expect(decoded == element)
        guard case .channelIdentification(let identification)? = decoded, case .channelNumbers(let numbers) = identification.selection else {
            Issue.record("expected channel numbers")
            return
        }
        #expect(Array(numbers) == all && identification.channelNumber == 1)

        let tooMany: [UInt8] = [0xA9, 0x83] + (0..<31).map { UInt8($0 + 1) } + [0x81]
        let contents = Q931InformationElement.decode(codeset: 0, identifier: 0x18, contents: tooMany[...])
        guard case .invalid(let raw, .invalidField(let field)) = contents else {
            Issue.record("expected an invalid element, got \(contents)")
            return
        }
        #expect(raw.contents == tooMany)
        #expect(field == "channel identification: more than 31 channel numbers")
    }

    @Test("the single-channel shortcut decodes every 3-octet channel identification as the general decoder does")
    func singleChannelShortcut() {
        func decoded(_ octets: [UInt8], general: Bool) -> Result<ChannelIdentification, Q931ElementError> {
            octets.withUnsafeBufferPointer { buffer in
                do throws(Q931ElementError) {
                    return .success(general ? try ChannelIdentification(decoding: buffer) : try ChannelIdentification(contents: buffer))
                } catch {
                    return .failure(error)
                }
            }
        }
        var differences = 0
        var shortcutShapes = 0
        for octet3 in 0...255 {
            for octet32 in 0...255 {
                for octet33: UInt8 in [0x81, 0x9F, 0x01, 0xFF] {
                    let octets = [UInt8(octet3), UInt8(octet32), octet33]
                    if decoded(octets, general: false) != decoded(octets, general: true) { differences += 1 }
                    if UInt8(octet3) & 0xE3 == 0xA1 && UInt8(octet32) & 0x90 == 0x80 && octet33 & 0x80 != 0 { shortcutShapes += 1 }
                }
            }
        }
        #expect(differences == 0)
        #expect(shortcutShapes == 8 * 64 * 3, "octet 3: spare, exclusive and D bits free; 3.2: coding and type free")
    }

    @Test("one B-channel encodes as octets 3, 3.2 and 3.3 with the exclusive and D-channel bits, and round-trips")
    func singleChannelEncoding() throws {
        for exclusive in [false, true] {
            for dChannel in [false, true] {
                for channel: UInt8 in [1, 16, 31, 0x7F] {
                    let identification = ChannelIdentification(exclusive: exclusive, dChannel: dChannel, selection: .channelNumbers([channel]))
                    let (decoded, octets) = try Self.roundTrip(.channelIdentification(identification))
                    let octet3: UInt8 = 0xA1 | (exclusive ? 0x08 : 0) | (dChannel ? 0x04 : 0)
                    #expect(Array(octets.suffix(5)) == [0x18, 0x03, octet3, 0x83, 0x80 | channel])
                    #expect(decoded == .channelIdentification(identification))
                }
            }
        }
        let basic = ChannelIdentification(interfaceType: .basic, exclusive: true, selection: .basicChannel(2))
        #expect(try Self.roundTrip(.channelIdentification(basic)).1.suffix(3) == [0x18, 0x01, 0x8A])
    }

    @Test("slot maps and interface identifiers round-trip; an implicit interface reads as nil")
    func slotMapAndInterface() throws {
        let element = Q931InformationElement.channelIdentification(
            ChannelIdentification(exclusive: false, interfaceIdentifier: [0x01, 0x82], selection: .slotMap([0xFF, 0xFF, 0x7F, 0xFE])))
        let (decoded, octets) = try Self.roundTrip(element)
        #expect(decoded == element)
        #expect(Array(octets.suffix(10)) == [0x18, 0x08, 0xE1, 0x01, 0x82, 0x93, 0xFF, 0xFF, 0x7F, 0xFE])
        guard case .channelIdentification(let identification)? = decoded else { return }
        #expect(identification.interfaceIdentifier == [0x01, 0x82])
        #expect(ChannelIdentification.primary(channel: 5, exclusive: true).interfaceIdentifier == nil)
        let single = ChannelIdentification.primary(channel: 5, exclusive: true)
        #expect(single.selection == .channelNumbers([5]) && single.channelNumber == 5)
    }

    // MARK: - Cause and bearer capability

    @Test("31 diagnostic octets round-trip; 32 make the cause invalid")
    func causeDiagnostics() throws {
        let diagnostics = (0..<31).map { UInt8($0) }
        let cause = CauseElement(.invalidInformationElementContents, location: .user, diagnostics: diagnostics)
        let (decoded, _) = try Self.roundTrip(.cause(cause))
        #expect(decoded == .cause(cause))
        if case .cause(let back)? = decoded { #expect(back.diagnostics == diagnostics) }
        #expect(CauseElement(.normalCallClearing, location: .user).diagnostics == [])

        let tooMany: [UInt8] = [0x80, 0xE4] + Array(repeating: 0x18, count: 32)
        guard case .invalid(let raw, _) = Q931InformationElement.decode(codeset: 0, identifier: 0x08, contents: tooMany[...]) else {
            Issue.record("expected an invalid cause")
            return
        }
        #expect(raw.contents == tooMany)
    }

    @Test("bearer capability octets 5a-5d and 6-7 round-trip up to 7 each; more make it invalid")
    func bearerOctets() throws {
        let bearer = BearerCapability(transferCapability: .unrestrictedDigital, userInformationLayer1: .v110,
                                      layer1Extension: [0x48, 0x01, 0x02, 0xBB], trailingOctets: [0x42, 0x66, 0x01, 0x02, 0x03, 0x04, 0x05])
        let (decoded, _) = try Self.roundTrip(.bearerCapability(bearer))
        #expect(decoded == .bearerCapability(bearer))
        if case .bearerCapability(let back)? = decoded {
            #expect(back.layer1Extension == [0x48, 0x01, 0x02, 0xBB])
            #expect(back.trailingOctets == [0x42, 0x66, 0x01, 0x02, 0x03, 0x04, 0x05])
        }
        #expect(BearerCapability.speechALaw.layer1Extension.isEmpty && BearerCapability.speechALaw.trailingOctets.isEmpty)

        let eightTrailing: [UInt8] = [0x88, 0x90] + Array(repeating: 0x42, count: 8)
        guard case .invalid(_, .invalidField(let field)) = Q931InformationElement.decode(codeset: 0, identifier: 0x04, contents: eightTrailing[...]) else {
            Issue.record("expected an invalid bearer capability")
            return
        }
        #expect(field == "bearer capability: 8 octets after octet 5, at most 7")
        let eightExtensions: [UInt8] = [0x88, 0x90, 0x21] + Array(repeating: 0x01, count: 8)
        guard case .invalid = Q931InformationElement.decode(codeset: 0, identifier: 0x04, contents: eightExtensions[...]) else {
            Issue.record("expected an invalid bearer capability")
            return
        }
    }
}
