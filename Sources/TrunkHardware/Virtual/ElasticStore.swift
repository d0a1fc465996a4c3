/// The receive elastic store of an E1 port: frames wait here between the line and the
/// channels. Its depth sets the one-way delay; a controlled slip drops or repeats one whole
/// frame (125 µs) when the far end's clock and ours disagree.
struct ElasticStore {
    static let frameBytes = E1Wire.timeslots
    static let maximumDelayMs = 500

    private var storage: [UInt8]
    private var head = 0
    private var frames = 0
    private let capacityFrames: Int
    /// Idle frames still to be inserted while a raised delay builds up.
    private var framesToInsert = 0
    private var delayFrames = 0
    private var nextSlipIsRepeat = true

    init() {
        capacityFrames = (Self.maximumDelayMs + 4) * E1Wire.framesPerTick
        storage = Array(repeating: 0, count: capacityFrames * Self.frameBytes)
    }

    /// Sets the one-way delay: raising it inserts idle frames, lowering it sheds frames at once.
    mutating func setDelay(ms: Int) {
        let target = min(max(ms, 0), Self.maximumDelayMs) * E1Wire.framesPerTick
        if target > delayFrames {
            framesToInsert += target - delayFrames
        } else {
            var shed = delayFrames - target
            let pendingCut = min(shed, framesToInsert)
            framesToInsert -= pendingCut
            shed -= pendingCut
            while shed > 0 && frames > 0 {
                head = (head + 1) % capacityFrames
                frames -= 1
                shed -= 1
            }
        }
        delayFrames = target
    }

    private mutating func pushFrame(from tick: UnsafeBufferPointer<UInt8>, frame: Int) {
        guard frames < capacityFrames else { return }
        let tail = (head + frames) % capacityFrames
        for slot in 0..<Self.frameBytes { storage[tail * Self.frameBytes + slot] = tick[frame * Self.frameBytes + slot] }
        frames += 1
    }

    private mutating func popFrame(into out: UnsafeMutableBufferPointer<UInt8>, frame: Int) {
        for slot in 0..<Self.frameBytes { out[frame * Self.frameBytes + slot] = storage[head * Self.frameBytes + slot] }
        head = (head + 1) % capacityFrames
        frames -= 1
    }

    /// Takes one tick from the line and gives one tick (8 frames) to the channels. With
    /// `slip`, one frame is repeated or dropped this tick (alternately, so the store stays
    /// centred); a drop needs a spare frame, so without one the slip is a repeat.
    mutating func pass(_ tick: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                       slip: Bool, idle: (UnsafeMutableBufferPointer<UInt8>, Int) -> Void) {
        for frame in 0..<E1Wire.framesPerTick { pushFrame(from: tick, frame: frame) }
        var produced = 0
        while produced < E1Wire.framesPerTick && framesToInsert > 0 {
            idle(out, produced)
            produced += 1
            framesToInsert -= 1
        }
        if slip && produced < E1Wire.framesPerTick {
            if nextSlipIsRepeat || frames <= E1Wire.framesPerTick - produced {
                popFrame(into: out, frame: produced)
                produced += 1
                if produced < E1Wire.framesPerTick {
                    for slot in 0..<Self.frameBytes {
                        out[produced * Self.frameBytes + slot] = out[(produced - 1) * Self.frameBytes + slot]
                    }
                    produced += 1
                }
                nextSlipIsRepeat = false
            } else {
                head = (head + 1) % capacityFrames
                frames -= 1
                nextSlipIsRepeat = true
            }
        }
        while produced < E1Wire.framesPerTick {
            if frames > 0 { popFrame(into: out, frame: produced) } else { idle(out, produced) }
            produced += 1
        }
    }
}
