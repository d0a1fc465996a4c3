import Dispatch
import G168Harness
import Testing
import TrunkMedia

/// Talk-off: no digit may be reported over 30 minutes of speech-like and music-like signals
/// (generated from fixed seeds, through A-law), at speech levels from −10 to −25 dBm0.
@Suite struct DTMFTalkOffTests {
    /// One minute of signal number `index`: alternating kinds and levels so the corpus covers
    /// composite-source speech, a modulated-noise talker and music, loud and quiet.
    static func minute(_ index: Int) -> [Int16] {
        let level = Float([-10, -15, -20, -25][index % 4])
        let seed = UInt64(1000 + index)
        switch index % 3 {
        case 0:
            return DSPTestSignals.aLaw(SpeechLikeSignal.compositeSource(seconds: 60, activeLevel: level, voiced: index % 2 == 0 ? .tableC1 : .tableC3, seed: seed))
        case 1:
            return DSPTestSignals.aLaw(SpeechLikeSignal.modulatedNoiseTalker(seconds: 60, activeLevel: level, seed: seed))
        default:
            return DSPTestSignals.aLaw(DSPTestSignals.musicLike(seconds: 60, level: Double(level), seed: seed))
        }
    }

    /// The 30 minutes, generated once (in parallel) and shared by the DTMF, call-progress and
    /// modem corpus tests: generating them costs more than detecting on them.
    static let corpus: [[Int16]] = {
        // Each iteration writes only its own slot.
        struct Slots: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<[Int16]> }
        let slots = Slots(buffer: .allocate(capacity: 30))
        slots.buffer.initialize(repeating: [])
        defer { slots.buffer.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 30) { slots.buffer[$0] = minute($0) }
        return Array(slots.buffer)
    }()

    @Test func noFalseDigitsInThirtyMinutes() async {
        // Minutes in parallel: each has its own receiver, as each channel does.
        let results = await withTaskGroup(of: (Int, [MediaDetection], Int).self) { group in
            for index in 0..<30 {
                group.addTask {
                    let receiver = DTMFReceiver()
                    let found = DSPTestSignals.detect(receiver, Self.corpus[index])
                    return (index, found, receiver.rejectedForFrequency)
                }
            }
            var all: [(Int, [MediaDetection], Int)] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 30)
        for (index, found, _) in results {
            #expect(found.isEmpty, "minute \(index) (\(["CSS", "modulated noise", "music"][index % 3])): false digits \(found)")
        }
    }
}
