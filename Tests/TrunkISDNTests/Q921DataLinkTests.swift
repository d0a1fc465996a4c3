import Testing
@testable import TrunkISDN

/// Drives a network-side data link directly with frames a user side would send.
@Suite("Q.921 data link state machine")
struct Q921DataLinkTests {
    static func fromUser(_ control: LAPDControl, command: Bool, information: [UInt8] = []) -> [UInt8] {
        LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: LAPDAddress.commandResponseBit(for: .user, isCommand: command), tei: 0),
                  control: control, information: information[...]).bytes
    }

    static func established(configuration: Q921Configuration = Q921Configuration(role: .network)) -> Q921DataLink {
        var link = Q921DataLink(configuration: configuration)
        _ = link.establishRequest(now: .zero)
        let actions = link.frameReceived(fromUser(.unnumbered(.unnumberedAcknowledgement, pollFinal: true), command: false), now: .zero)
        precondition(actions.contains(.establishConfirm))
        return link
    }

    @Test("establishment: SABME with P, UA with F, confirm, T200 stopped, T203 started")
    func establishment() {
        var link = Q921DataLink(configuration: Q921Configuration(role: .network))
        let start = link.establishRequest(now: .zero)
        #expect(start.transmittedFrames.map(\.control) == [.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true)])
        #expect(start.transmittedFrames.first?.address.commandResponseBit == true)
        #expect(start.contains(.startTimer(.t200, deadline: .seconds(1))))
        #expect(link.stateName == .awaitingEstablishment)
        let actions = link.frameReceived(Self.fromUser(.unnumbered(.unnumberedAcknowledgement, pollFinal: true), command: false), now: .seconds(0.2))
        #expect(actions == [.establishConfirm, .stopTimer(.t200), .startTimer(.t203, deadline: .seconds(10.2))])
        #expect(link.stateName == .multipleFrameEstablished)
    }

    @Test("peer-initiated establishment answers UA and indicates")
    func peerEstablishment() {
        var link = Q921DataLink(configuration: Q921Configuration(role: .network))
        let actions = link.frameReceived(Self.fromUser(.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true), command: true), now: .zero)
        #expect(actions.transmittedFrames.map(\.control) == [.unnumbered(.unnumberedAcknowledgement, pollFinal: true)])
        #expect(actions.transmittedFrames.first?.address.commandResponseBit == false)
        #expect(actions.contains(.establishIndication))
        #expect(link.isEstablished)
    }

    @Test("SABME retried N200 times, then released with an error")
    func establishmentExhaustion() {
        var link = Q921DataLink(configuration: Q921Configuration(role: .network))
        _ = link.establishRequest(now: .zero)
        var sabmeCount = 1
        var last: [Q921Action] = []
        for second in 1...4 {
            last = link.timerExpired(.t200, now: .seconds(Double(second)))
            sabmeCount += last.transmittedFrames.count
        }
        #expect(sabmeCount == 4)
        #expect(last.contains(.error(.establishmentFailed)))
        #expect(last.contains(.releaseIndication))
        #expect(link.stateName == .teiAssigned)
    }

    @Test("release: DISC, UA, confirm")
    func release() {
        var link = Self.established()
        let actions = link.releaseRequest(now: .seconds(1))
        #expect(actions.transmittedFrames.map(\.control) == [.unnumbered(.disconnect, pollFinal: true)])
        #expect(link.stateName == .awaitingRelease)
        let done = link.frameReceived(Self.fromUser(.unnumbered(.unnumberedAcknowledgement, pollFinal: true), command: false), now: .seconds(1.1))
        #expect(done.contains(.releaseConfirm))
        #expect(link.stateName == .teiAssigned)
    }

    @Test("DISC from the peer: UA and release indication")
    func peerRelease() {
        var link = Self.established()
        let actions = link.frameReceived(Self.fromUser(.unnumbered(.disconnect, pollFinal: true), command: true), now: .seconds(1))
        #expect(actions.transmittedFrames.map(\.control) == [.unnumbered(.unnumberedAcknowledgement, pollFinal: true)])
        #expect(actions.contains(.releaseIndication))
        #expect(link.stateName == .teiAssigned)
    }

    @Test("I frames are sent, acknowledged by RR, and T200 stops")
    func sendAndAcknowledge() {
        var link = Self.established()
        let sent = link.dataRequest([1, 2, 3], now: .seconds(1))
        #expect(sent.transmittedFrames.map(\.control) == [.information(ns: 0, nr: 0, poll: false)])
        #expect(sent.contains(.startTimer(.t200, deadline: .seconds(2))))
        #expect(sent.contains(.stopTimer(.t203)))
        let ack = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 1, pollFinal: false), command: false), now: .seconds(1.1))
        #expect(ack.contains(.stopTimer(.t200)))
        #expect(link.queuedFrameCount == 0)
    }

    @Test("received I frame is delivered and acknowledged with RR")
    func receiveInformation() {
        var link = Self.established()
        let actions = link.frameReceived(Self.fromUser(.information(ns: 0, nr: 0, poll: false), command: true, information: [0x08, 0x02]), now: .seconds(1))
        #expect(actions.contains(.dataIndication([0x08, 0x02])))
        #expect(actions.transmittedFrames.map(\.control) == [.supervisory(.receiveReady, nr: 1, pollFinal: false)])
    }

    @Test("T200 expiry polls in timer recovery; the F=1 answer triggers retransmission")
    func retransmission() {
        var link = Self.established()
        _ = link.dataRequest([0xAA], now: .seconds(1))
        let poll = link.timerExpired(.t200, now: .seconds(2))
        #expect(poll.transmittedFrames.map(\.control) == [.supervisory(.receiveReady, nr: 0, pollFinal: true)])
        #expect(link.stateName == .timerRecovery)
        let answer = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 0, pollFinal: true), command: false), now: .seconds(2.1))
        #expect(answer.transmittedFrames.map(\.control) == [.information(ns: 0, nr: 0, poll: false)])
        #expect(answer.transmittedFrames.first?.information == [0xAA])
        #expect(link.stateName == .multipleFrameEstablished)
        #expect(link.counters.retransmittedFrames == 1)
    }

    @Test("N200 unanswered polls re-establish the link")
    func timerRecoveryExhaustion() {
        var link = Self.established()
        _ = link.dataRequest([0xAA], now: .seconds(1))
        var actions: [Q921Action] = []
        for second in 2...5 {
            actions = link.timerExpired(.t200, now: .seconds(Double(second)))
        }
        #expect(actions.contains(.error(.timerRecoveryFailed)))
        #expect(actions.transmittedFrames.map(\.control) == [.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true)])
        #expect(link.stateName == .awaitingEstablishment)
        // The peer answers: the lost frame was never acknowledged, so layer 3 hears of the reset.
        let up = link.frameReceived(Self.fromUser(.unnumbered(.unnumberedAcknowledgement, pollFinal: true), command: false), now: .seconds(5.5))
        #expect(up.contains(.establishIndication))
    }

    @Test("T203 polls an idle link and the answer returns it to normal")
    func idlePoll() {
        var link = Self.established()
        let poll = link.timerExpired(.t203, now: .seconds(10))
        #expect(poll.transmittedFrames.map(\.control) == [.supervisory(.receiveReady, nr: 0, pollFinal: true)])
        #expect(poll.contains(.startTimer(.t200, deadline: .seconds(11))))
        #expect(link.stateName == .timerRecovery)
        let answer = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 0, pollFinal: true), command: false), now: .seconds(10.1))
        #expect(answer.contains(.startTimer(.t203, deadline: .seconds(20.1))))
        #expect(link.stateName == .multipleFrameEstablished)
    }

    @Test("stale timer expiries are ignored")
    func staleTimer() {
        var link = Self.established()
        #expect(link.timerExpired(.t200, now: .seconds(5)).isEmpty)
        #expect(link.timerExpired(.t203, now: .seconds(3)).isEmpty)
    }

    @Test("out-of-sequence I frame: one REJ, then recovery when the missing frame arrives")
    func rejectRecoveryAsReceiver() {
        var link = Self.established()
        _ = link.frameReceived(Self.fromUser(.information(ns: 0, nr: 0, poll: false), command: true, information: [0]), now: .seconds(1))
        let gap = link.frameReceived(Self.fromUser(.information(ns: 2, nr: 0, poll: false), command: true, information: [2]), now: .seconds(1))
        #expect(gap.transmittedFrames.map(\.control) == [.supervisory(.reject, nr: 1, pollFinal: false)])
        #expect(!gap.contains { if case .dataIndication = $0 { return true } else { return false } })
        let again = link.frameReceived(Self.fromUser(.information(ns: 3, nr: 0, poll: false), command: true, information: [3]), now: .seconds(1))
        #expect(again.transmittedFrames.isEmpty, "only one REJ per exception")
        let fill = link.frameReceived(Self.fromUser(.information(ns: 1, nr: 0, poll: false), command: true, information: [1]), now: .seconds(1.1))
        #expect(fill.contains(.dataIndication([1])))
        #expect(link.counters.rejectsTransmitted == 1)
    }

    @Test("REJ from the peer makes us resend from N(R)")
    func rejectRecoveryAsSender() {
        var link = Self.established()
        for byte: UInt8 in 0..<3 {
            _ = link.dataRequest([byte], now: .seconds(1))
        }
        let resent = link.frameReceived(Self.fromUser(.supervisory(.reject, nr: 1, pollFinal: false), command: false), now: .seconds(1.1))
        #expect(resent.transmittedFrames.map(\.control) == [.information(ns: 1, nr: 0, poll: false), .information(ns: 2, nr: 0, poll: false)])
        #expect(resent.transmittedFrames.map(\.information) == [[1], [2]])
    }

    @Test("window k = 7 holds the eighth frame until an acknowledgement")
    func windowFlowControl() {
        var link = Self.established()
        var sent = 0
        for byte: UInt8 in 0..<10 {
            sent += link.dataRequest([byte], now: .seconds(1)).transmittedFrames.count
        }
        #expect(sent == 7)
        let more = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 3, pollFinal: false), command: false), now: .seconds(1.2))
        #expect(more.transmittedFrames.map(\.control) == [
            .information(ns: 7, nr: 0, poll: false), .information(ns: 8, nr: 0, poll: false), .information(ns: 9, nr: 0, poll: false),
        ])
    }

    @Test("peer busy (RNR) stops transmission until RR")
    func peerBusy() {
        var link = Self.established()
        _ = link.frameReceived(Self.fromUser(.supervisory(.receiveNotReady, nr: 0, pollFinal: false), command: false), now: .seconds(1))
        #expect(link.dataRequest([1], now: .seconds(1)).transmittedFrames.isEmpty)
        let resume = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 0, pollFinal: false), command: false), now: .seconds(1.5))
        #expect(resume.transmittedFrames.map(\.control) == [.information(ns: 0, nr: 0, poll: false)])
    }

    @Test("RR command with P is answered with RR response F")
    func enquiryResponse() {
        var link = Self.established()
        let actions = link.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 0, pollFinal: true), command: true), now: .seconds(1))
        #expect(actions.transmittedFrames.map(\.control) == [.supervisory(.receiveReady, nr: 0, pollFinal: true)])
        #expect(actions.transmittedFrames.first?.address.commandResponseBit == false)
    }

    @Test("FRMR and invalid N(R) re-establish the link")
    func frameRejectAndInvalidNR() {
        var link = Self.established()
        let frmr = link.frameReceived(Self.fromUser(.unnumbered(.frameReject, pollFinal: false), command: false, information: [0, 0, 0, 0, 0]), now: .seconds(1))
        #expect(frmr.contains(.error(.frameRejectReceived)))
        #expect(link.stateName == .awaitingEstablishment)

        var other = Self.established()
        let bad = other.frameReceived(Self.fromUser(.supervisory(.receiveReady, nr: 5, pollFinal: false), command: false), now: .seconds(1))
        #expect(bad.contains(.error(.invalidReceiveSequenceNumber(nr: 5))))
        #expect(other.stateName == .awaitingEstablishment)
    }

    @Test("SABME on an established link resets it and tells layer 3")
    func peerReestablishment() {
        var link = Self.established()
        let actions = link.frameReceived(Self.fromUser(.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true), command: true), now: .seconds(1))
        #expect(actions.contains(.error(.peerReestablishedLink)))
        #expect(actions.contains(.establishIndication))
        #expect(link.isEstablished)
    }

    @Test("frames for other SAPI/TEI are ignored and counted; garbage is counted")
    func foreignAndMalformedFrames() {
        var link = Self.established()
        let tei5 = LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: false, tei: 5), control: .information(ns: 0, nr: 0, poll: false), information: [1]).bytes
        #expect(link.frameReceived(tei5, now: .seconds(1)).isEmpty)
        let sapi63 = LAPDFrame(address: LAPDAddress(sapi: 63, commandResponseBit: false, tei: 127), control: .unnumbered(.unnumberedInformation, pollFinal: false), information: [0x0F]).bytes
        #expect(link.frameReceived(sapi63, now: .seconds(1)).isEmpty)
        #expect(link.counters.unknownAddressFrames == 2)
        _ = link.frameReceived([0x01], now: .seconds(1))
        _ = link.frameReceived([], now: .seconds(1))
        #expect(link.counters.malformedFrames == 2)
        #expect(link.isEstablished)
    }

    @Test("oversized information field is a peer error, not a crash")
    func oversizedInformation() {
        var link = Self.established()
        let big = Self.fromUser(.information(ns: 0, nr: 0, poll: false), command: true, information: [UInt8](repeating: 1, count: 300))
        let actions = link.frameReceived(big, now: .seconds(1))
        #expect(actions.contains(.error(.informationFieldTooLong(length: 300))))
    }

    @Test("data requested while released starts establishment and is sent after UA")
    func dataWhileReleased() {
        var link = Q921DataLink(configuration: Q921Configuration(role: .user))
        let start = link.dataRequest([7], now: .zero)
        #expect(start.transmittedFrames.map(\.control) == [.unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true)])
        let ua = LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: false, tei: 0), control: .unnumbered(.unnumberedAcknowledgement, pollFinal: true)).bytes
        let up = link.frameReceived(ua, now: .seconds(0.1))
        #expect(up.contains(.establishIndication))
        #expect(up.transmittedFrames.map(\.information) == [[7]])
    }

    /// RR responses acknowledging every frame sent, until the queue is empty; the frames they release.
    static func acknowledgeAll(_ link: inout Q921DataLink, sentSoFar: inout Int) -> [LAPDFrame] {
        var frames: [LAPDFrame] = []
        for _ in 0..<20 where link.queuedFrameCount > 0 {
            let rr = fromUser(.supervisory(.receiveReady, nr: UInt8(sentSoFar & 0x7F), pollFinal: false), command: false)
            let more = link.frameReceived(rr, now: .seconds(1.1)).transmittedFrames
            sentSoFar += more.count
            frames += more
        }
        return frames
    }

    @Test("payloads go out whole and in order past the queue's first ring, and frames already handed out keep their octets when the buffers are written again")
    func payloadBuffersReused() {
        var link = Self.established()
        var frames: [LAPDFrame] = []
        var payloads: [[UInt8]] = []
        var sent = 0
        for round in 0..<2 {
            // More than the ring's 16 slots, so it grows; lengths past the 64 octets a buffer starts with.
            let batch = (0..<40).map { index in
                [UInt8](repeating: UInt8(round * 100 + index), count: 1 + (index * 37) % 260)
            }
            payloads += batch
            var batchFrames: [LAPDFrame] = []
            for payload in batch { batchFrames += link.dataRequest(payload, now: .seconds(1)).transmittedFrames }
            #expect(batchFrames.count == 7)
            sent += batchFrames.count
            if round == 1 {
                // Resent from the queue after the buffers have been written a second time; the
                // window then has room for two new frames as well.
                let rej = Self.fromUser(.supervisory(.reject, nr: UInt8((sent - 5) & 0x7F), pollFinal: false), command: false)
                let resent = link.frameReceived(rej, now: .seconds(1.1)).transmittedFrames
                #expect(resent.map { Array($0.information) } == Array(batch[2..<9]))
                batchFrames += resent.suffix(2)
                sent += 2
            }
            frames += batchFrames
            frames += Self.acknowledgeAll(&link, sentSoFar: &sent)
            #expect(link.queuedFrameCount == 0)
        }
        #expect(frames.map { Array($0.information) } == payloads)
        #expect(frames.map(\.control) == (0..<80).map { .information(ns: UInt8($0), nr: 0, poll: false) })
    }

    @Test("a payload longer than N201 is discarded and counted; one of N201 octets goes out whole")
    func payloadLongerThanN201() {
        var link = Self.established()
        let long = link.dataRequest([UInt8](repeating: 1, count: 261), now: .seconds(1))
        #expect(long == [.error(.dataDiscarded)])
        #expect(link.counters.discardedData == 1)
        #expect(link.queuedFrameCount == 0)
        let longest = [UInt8](repeating: 2, count: 260)
        let sent = link.dataRequest(longest, now: .seconds(1))
        #expect(sent.transmittedFrames.map { Array($0.information) } == [longest])
    }

    @Test("a full queue discards the next payload and keeps the ones it holds")
    func queueFull() {
        var link = Self.established(configuration: Q921Configuration(role: .network, maximumQueuedFrames: 16))
        var frames: [LAPDFrame] = []
        for byte: UInt8 in 0..<16 {
            frames += link.dataRequest([byte, byte], now: .seconds(1)).transmittedFrames
        }
        #expect(link.dataRequest([0xFF], now: .seconds(1)) == [.error(.dataDiscarded)])
        #expect(link.queuedFrameCount == 16)
        var sent = frames.count
        frames += Self.acknowledgeAll(&link, sentSoFar: &sent)
        #expect(frames.map { Array($0.information) } == (0..<16).map { [UInt8($0), UInt8($0)] })
    }
}
