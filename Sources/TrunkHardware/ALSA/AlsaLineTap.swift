import TrunkCore

/// Where a line tap's voice-activated recordings go, as they happen: a recording is opened, its
/// audio follows in pieces (pre-roll first), then it is closed. Streaming rather than handing
/// over a finished recording keeps a long conversation out of memory and lets the store
/// checkpoint it while it runs, so a crash loses seconds, not the call.
public protocol LineTapRecordingSink: AnyObject {
    /// `startSample`: the first sample's number (8 kHz since the tap started), pre-roll included;
    /// `heardThrough`: the number of samples read from the card so far (so the start's wall time
    /// is `heardThrough - startSample` samples ago).
    func lineTapOpened(startSample: Int, heardThrough: Int)
    func lineTapAudio(_ samples: UnsafeBufferPointer<Int16>)
    /// `endSample`: one past the last sample recorded (the hang time included).
    func lineTapClosed(endSample: Int)
}

/// A line-tap recording input: a capture PCM (a sound card's line-in across an analog line)
/// with voice activation. Each opened-and-closed stretch of talk becomes one recording.
public final class AlsaLineTap: @unchecked Sendable {
    public let pcm: AlsaPCM
    private var gate: VoiceActivationGate
    private var history: [Int16] = []
    public private(set) var isRecording = false
    private var consumed = 0
    private var buffer: [Int16]
    private let sink: any LineTapRecordingSink

    public init(pcm: AlsaPCM, settings: VoxSettings, sink: any LineTapRecordingSink) throws(TrunkError) {
        guard pcm.direction == .capture, pcm.channels == 1 else {
            throw TrunkError(.invalidArgument, "a line tap needs a mono capture device, not \(pcm.device)")
        }
        self.pcm = pcm
        gate = VoiceActivationGate(settings: settings)
        buffer = Array(repeating: 0, count: pcm.periodFrames)
        history.reserveCapacity(settings.preRollMs * 8 + pcm.periodFrames)
        self.sink = sink
    }

    /// Reads what the card has (waiting up to `timeoutMs`) and runs it through VOX.
    public func poll(timeoutMs: Int32) throws(TrunkError) {
        guard pcm.wait(timeoutMs: timeoutMs) else { return }
        while true {
            let frames = try buffer.withUnsafeMutableBufferPointer { (out) throws(TrunkError) -> Int in try pcm.read(into: out) }
            guard frames > 0 else { return }
            buffer.withUnsafeBufferPointer { feed(UnsafeBufferPointer(rebasing: $0[0..<frames])) }
        }
    }

    /// Ends a recording in progress (the tap is stopping): what was heard so far is kept.
    public func closeRecording() {
        guard isRecording else { return }
        isRecording = false
        sink.lineTapClosed(endSample: consumed)
    }

    /// The VOX path on its own, for files and tests of the decision. Event positions are
    /// absolute sample numbers; the history holds the pre-roll before this chunk.
    func feed(_ samples: UnsafeBufferPointer<Int16>) {
        let events = gate.process(samples)
        var sendFrom = consumed
        for event in events {
            switch event {
            case .opened(let sample):
                let historyStart = consumed - history.count
                let from = max(sample, historyStart)
                isRecording = true
                sink.lineTapOpened(startSample: from, heardThrough: consumed + samples.count)
                if from < consumed {
                    history.withUnsafeBufferPointer { sink.lineTapAudio(UnsafeBufferPointer(rebasing: $0[(from - historyStart)...])) }
                }
                sendFrom = max(from, consumed)
            case .closed(let sample):
                let end = min(max(sample, sendFrom), consumed + samples.count)
                if isRecording {
                    if end > sendFrom { sink.lineTapAudio(UnsafeBufferPointer(rebasing: samples[(sendFrom - consumed)..<(end - consumed)])) }
                    isRecording = false
                    sink.lineTapClosed(endSample: end)
                }
                sendFrom = end
            }
        }
        if isRecording, sendFrom < consumed + samples.count {
            sink.lineTapAudio(UnsafeBufferPointer(rebasing: samples[(sendFrom - consumed)...]))
        }
        consumed += samples.count
        history.append(contentsOf: samples)
        let keep = gate.settings.preRollMs * 8
        if history.count > keep { history.removeFirst(history.count - keep) }
    }
}
