import TrunkCore

/// A line-tap recording input: a capture PCM (a sound card's line-in across an analog line)
/// with voice activation. Each opened-and-closed stretch of talk is handed on as one recording.
public final class AlsaLineTap: @unchecked Sendable {
    public struct Recording: Sendable, Equatable {
        /// Sample index (at 8 kHz since the tap started) of the first sample, pre-roll included.
        public var startSample: Int
        public var samples: [Int16]
    }

    public let pcm: AlsaPCM
    private var gate: VoiceActivationGate
    private var history: [Int16] = []
    private var current: [Int16]?
    private var currentStart = 0
    private var consumed = 0
    private var buffer: [Int16]
    private let onRecording: @Sendable (Recording) -> Void

    public init(pcm: AlsaPCM, settings: VoxSettings, onRecording: @escaping @Sendable (Recording) -> Void) throws(TrunkError) {
        guard pcm.direction == .capture, pcm.channels == 1 else {
            throw TrunkError(.invalidArgument, "a line tap needs a mono capture device, not \(pcm.device)")
        }
        self.pcm = pcm
        gate = VoiceActivationGate(settings: settings)
        buffer = Array(repeating: 0, count: pcm.periodFrames)
        history.reserveCapacity(settings.preRollMs * 8 + pcm.periodFrames)
        self.onRecording = onRecording
    }

    public var isRecording: Bool { current != nil }

    /// Reads what the card has (waiting up to `timeoutMs`) and runs it through VOX.
    public func poll(timeoutMs: Int32) throws(TrunkError) {
        guard pcm.wait(timeoutMs: timeoutMs) else { return }
        while true {
            let frames = try buffer.withUnsafeMutableBufferPointer { (out) throws(TrunkError) -> Int in try pcm.read(into: out) }
            guard frames > 0 else { return }
            feed(Array(buffer[0..<frames]))
        }
    }

    /// The VOX path on its own, for files and tests of the decision. Event positions are
    /// absolute sample numbers; the history holds the pre-roll before this chunk.
    func feed(_ samples: [Int16]) {
        let events = samples.withUnsafeBufferPointer { gate.process($0) }
        var appendFrom = consumed
        for event in events {
            switch event {
            case .opened(let sample):
                let historyStart = consumed - history.count
                let from = max(sample, historyStart)
                current = from < consumed ? Array(history[(from - historyStart)...]) : []
                currentStart = from
                appendFrom = max(from, consumed)
            case .closed(let sample):
                let end = min(max(sample, appendFrom), consumed + samples.count)
                current?.append(contentsOf: samples[(appendFrom - consumed)..<(end - consumed)])
                appendFrom = end
                if let current { onRecording(Recording(startSample: currentStart, samples: current)) }
                current = nil
            }
        }
        if current != nil { current!.append(contentsOf: samples[(appendFrom - consumed)...]) }
        consumed += samples.count
        history.append(contentsOf: samples)
        let keep = gate.settings.preRollMs * 8
        if history.count > keep { history.removeFirst(history.count - keep) }
    }
}
