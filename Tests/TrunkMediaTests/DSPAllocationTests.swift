import CMallocCounter
import Testing
import TrunkMedia

/// The detectors and generators run on the media thread: after init, no block may allocate,
/// including blocks where spandsp calls back with a digit, a tone start or end.
@Suite struct DSPAllocationTests {
    @Test func detectorsAndGeneratorsDoNotAllocatePerBlock() {
        var signal = DSPTestSignals.aLaw(DSPTestSignals.dtmf("1234567890", lowDBm0: -10, highDBm0: -10))
        signal += ToneDetectorTests.signal(.cn, .busy, cycles: 3)
        signal += ModemToneDetectorTests.tone(1100, onMs: 500, offMs: 500, bursts: 1)
        let detectors: [AudioDetector] = [DTMFReceiver(), CallProgressToneDetector(zone: .cn), ModemToneDetector()]
        let dtmf = DTMFGenerator()
        dtmf.send("0123456789")
        let tone = ToneGenerator(ToneZone.cn.definition(of: .busy)!)
        var out = [Int16](repeating: 0, count: 160)
        var detections = 0
        signal.withUnsafeBufferPointer { all in
            out.withUnsafeMutableBufferPointer { block in
                detectors.withUnsafeBufferPointer { channels in
                    // Warm-up: lazy globals (e.g. the keypad table) are made once, not per block.
                    for i in 0..<channels.count { channels[i].process(UnsafeBufferPointer(rebasing: all[0..<160]), sampleTime: 0) }
                    _ = dtmf.fill(block)
                    _ = tone.fill(block)
                    malloc_counter_start()
                    var start = 160
                    while start + 160 <= all.count {
                        let piece = UnsafeBufferPointer(rebasing: all[start..<start + 160])
                        for i in 0..<channels.count {
                            channels[i].process(piece, sampleTime: UInt64(start))
                            while channels[i].nextDetection() != nil { detections += 1 }
                        }
                        _ = dtmf.fill(block)
                        _ = tone.fill(block)
                        start += 160
                    }
                    let allocations = malloc_counter_stop()
                    #expect(allocations == 0, "\(allocations) allocations over \(all.count / 160) blocks")
                }
            }
        }
        // Ten digits, busy start and end, CNG start and end: the callbacks did run.
        #expect(detections == 14)
    }
}
