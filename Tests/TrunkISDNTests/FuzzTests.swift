import Testing
@testable import TrunkISDN

/// Random and mutated input for every parser of outside bytes and for the state machines that
/// consume them. Fixed seeds, so a failure reproduces; a crash fails the whole run.
@Suite("Fuzzing with fixed seeds")
struct FuzzTests {
    static let seeds: [[UInt8]] = {
        let messages: [Q931Message] = [
            Q931Message(.setup, callReference: Q931CallReference(value: 1, flag: false), informationElements: [
                .bearerCapability(.speechALaw), .channelIdentification(.primary(channel: 1, exclusive: true)),
                .callingPartyNumber(PartyNumber(digits: "5551234", presentation: .allowedUserNotScreened)),
                .calledPartyNumber(PartyNumber(digits: "1000")), .sendingComplete,
            ]),
            Q931Message(.disconnect, callReference: Q931CallReference(value: 1, flag: true), informationElements: [
                .cause(CauseElement(.normalCallClearing, location: .user, diagnostics: [1, 2])),
            ]),
            Q931Message(.status, callReference: Q931CallReference(value: 1, flag: true), informationElements: [
                .cause(CauseElement(.responseToStatusEnquiry, location: .user)), .callState(CallStateElement(value: 10)),
            ]),
            Q931Message(.restart, callReference: .global(flag: false), informationElements: [
                .channelIdentification(.primary(channel: 3, exclusive: true)), .restartIndicator(RestartIndicator(.indicatedChannels)),
            ]),
            Q931Message(.connect, callReference: Q931CallReference(value: 1, flag: true), informationElements: [
                .channelIdentification(.primary(channel: 1, exclusive: true)),
                .dateTime(DateTimeElement(year: 26, month: 1, day: 1, hour: 0, minute: 0)),
                .unrecognized(RawInformationElement(codeset: 6, identifier: 0x20, contents: [1])),
            ]),
        ]
        return messages.map { try! $0.encoded() }
    }()

    static func mutate(_ input: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        switch random.next() % 4 {
        case 0:
            if !bytes.isEmpty { bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 << (random.next() % 8)) }
        case 1:
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
        case 2:
            bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(bytes.count + 1)))
        default:
            if !bytes.isEmpty { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
        }
        return bytes
    }

    static func randomBytes(using random: inout SplitMix64, maximumLength: Int) -> [UInt8] {
        (0..<Int(random.next() % UInt64(maximumLength + 1))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    @Test("Q.931 decoder: 30 000 random and mutated inputs decode or fail with a typed error")
    func q931Decoder() throws {
        var random = SplitMix64(seed: 0x51_931)
        var decoded = 0
        for round in 0..<30_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = Self.randomBytes(using: &random, maximumLength: 48)
                if bytes.count > 1, round % 4 == 0 { bytes[0] = 0x08 }
            } else {
                bytes = Self.seeds[Int(random.next() % UInt64(Self.seeds.count))]
                for _ in 0...(random.next() % 3) { bytes = Self.mutate(bytes, using: &random) }
            }
            if let message = try? Q931Message.decode(bytes) {
                decoded += 1
                // Whatever decodes re-encodes (or reports a typed error) and decodes to the same thing.
                if let again = try? message.encoded() {
                    #expect(try Q931Message.decode(again) == message)
                }
            }
        }
        #expect(decoded > 3_000)
    }

    @Test("Q.931 decoder: every prefix of every seed message")
    func q931Prefixes() {
        for seed in Self.seeds {
            for length in 0...seed.count {
                _ = try? Q931Message.decode(Array(seed.prefix(length)))
                _ = try? Q931Message.decode(seed[length...])
            }
        }
    }

    @Test("LAPD decoder: 30 000 random frames")
    func lapdDecoder() {
        var random = SplitMix64(seed: 0x1A_BD)
        var decoded = 0
        for _ in 0..<30_000 {
            let bytes = Self.randomBytes(using: &random, maximumLength: 12)
            if let frame = try? LAPDFrame.decode(bytes) {
                decoded += 1
                #expect(frame.bytes == bytes)
            }
        }
        #expect(decoded > 1_000)
    }

    @Test("Q.921 state machine: 20 000 random and plausible frames in every state", arguments: [ISDNRole.network, .user])
    func dataLinkStateMachine(role: ISDNRole) {
        var random = SplitMix64(seed: role == .network ? 1 : 2)
        var link = Q921DataLink(configuration: Q921Configuration(role: role))
        var now = ISDNInstant.zero
        for round in 0..<20_000 {
            now = now + .milliseconds(Int64(random.next() % 400))
            switch random.next() % 10 {
            case 0: _ = link.establishRequest(now: now)
            case 1: _ = link.dataRequest([0x08, 0x02, 0x00, 0x01, 0x05], now: now)
            case 2: _ = link.timerExpired(random.next() % 2 == 0 ? .t200 : .t203, now: now)
            case 3 where round % 50 == 0: _ = link.releaseRequest(now: now)
            default:
                // Mostly well-formed frames for our address, so deeper states are reached.
                let control: LAPDControl
                switch random.next() % 4 {
                case 0: control = .information(ns: UInt8(random.next() % 128), nr: UInt8(random.next() % 128), poll: random.next() % 2 == 0)
                case 1: control = .supervisory([.receiveReady, .receiveNotReady, .reject][Int(random.next() % 3)],
                                                nr: UInt8(random.next() % 128), pollFinal: random.next() % 2 == 0)
                case 2: control = .unnumbered([.setAsynchronousBalancedModeExtended, .unnumberedAcknowledgement, .disconnectedMode,
                                               .disconnect, .frameReject, .unnumberedInformation, .exchangeIdentification][Int(random.next() % 7)],
                                              pollFinal: random.next() % 2 == 0)
                default:
                    _ = link.frameReceived(Self.randomBytes(using: &random, maximumLength: 8), now: now)
                    continue
                }
                let frame = LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: random.next() % 2 == 0, tei: 0), control: control,
                                      information: [0x08, 0x02, 0x00, 0x01, 0x7D][...])
                _ = link.frameReceived(frame.bytes, now: now)
            }
        }
        #expect(link.counters.framesReceived > 10_000)
    }

    @Test("Q.931 interface: 20 000 random and mutated messages", arguments: [ISDNRole.network, .user])
    func callControlStateMachine(role: ISDNRole) {
        var random = SplitMix64(seed: role == .network ? 3 : 4)
        var interface = Q931Interface(configuration: Q931Configuration(role: role))
        var now = ISDNInstant.zero
        _ = interface.dataLinkEstablished(now: now)
        var known: [Q931CallID] = []
        for _ in 0..<20_000 {
            now = now + .milliseconds(Int64(random.next() % 2_000))
            switch random.next() % 12 {
            case 0:
                let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: now)
                if let call { known.append(call) }
            case 1:
                if let call = known.randomElement(using: &random) {
                    switch random.next() % 6 {
                    case 0: _ = interface.alerting(call, now: now)
                    case 1: _ = interface.connect(call, now: now)
                    case 2: _ = interface.disconnect(call, cause: .normalCallClearing, now: now)
                    case 3: _ = interface.proceeding(call, now: now)
                    case 4: _ = interface.statusEnquiry(call, now: now)
                    default: _ = interface.release(call, now: now)
                    }
                }
            case 2:
                if let call = known.randomElement(using: &random) {
                    _ = interface.timerExpired(.call(call, Q931Timer.allCases.randomElement(using: &random)!), now: now)
                }
            case 3:
                _ = interface.dataLinkReleased(now: now)
                _ = interface.dataLinkEstablished(now: now)
            case 4:
                _ = interface.restart(channels: random.next() % 2 == 0 ? nil : [UInt8(random.next() % 32)], now: now)
                _ = interface.timerExpired(.restart, now: now + .seconds(200))
            default:
                var bytes = Self.seeds[Int(random.next() % UInt64(Self.seeds.count))]
                // Aim the message at one of a handful of call references so calls really progress.
                if bytes.count > 4, bytes[1] == 2 {
                    bytes[3] = UInt8(random.next() % 4)
                    bytes[2] = random.next() % 2 == 0 ? 0x80 : 0x00
                    bytes[4] = Q931CodecTests.allTypes.randomElement(using: &random)!.rawValue
                }
                if random.next() % 3 == 0 { bytes = Self.mutate(bytes, using: &random) }
                for action in interface.messageReceived(bytes[...], now: now) {
                    if case .indication(.incomingCall(let call)) = action { known.append(call.id) }
                }
            }
            if known.count > 64 { known.removeFirst(32) }
        }
        #expect(interface.counters.messagesReceived > 10_000)
        #expect(interface.calls.count <= 0x7FFF)
    }

    @Test("whole D-channel stack: 10 000 random frames")
    func wholeStack() {
        var random = SplitMix64(seed: 5)
        var stack = PRIDChannel(role: .user)
        var now = ISDNInstant.zero
        _ = stack.start(now: now)
        for _ in 0..<10_000 {
            now = now + .milliseconds(Int64(random.next() % 100))
            var payload = Self.seeds[Int(random.next() % UInt64(Self.seeds.count))]
            if random.next() % 2 == 0 { payload = Self.mutate(payload, using: &random) }
            let frame = LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: true, tei: 0),
                                  control: random.next() % 8 == 0 ? .unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true)
                                                                  : .information(ns: UInt8(random.next() % 128), nr: 0, poll: false),
                                  information: payload[...])
            _ = stack.frameReceived(random.next() % 10 == 0 ? Self.mutate(frame.bytes, using: &random) : frame.bytes, now: now)
        }
        #expect(stack.dataLink.counters.framesReceived == 10_000)
    }
}
