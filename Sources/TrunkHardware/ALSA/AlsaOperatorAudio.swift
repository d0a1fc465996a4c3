import TrunkCore

/// Operator audio: a sound card's playback and capture joined to a telephony channel, so a
/// supervisor hears the line (channel → speaker) and can speak into it (microphone → channel).
/// `pump()` moves whatever is ready both ways; run it from the tick or a small thread.
public final class AlsaOperatorAudio: @unchecked Sendable {
    public let playback: AlsaPCM
    public let capture: AlsaPCM
    private let channel: any ChannelDevice
    private var fromLine: [UInt8]
    private var toSpeaker: [Int16] = []
    private var fromMicrophone: [Int16]
    private var toLine: [UInt8] = []
    /// Samples the channel could not take because the line side was not ready (dropped, counted).
    public private(set) var droppedToLine = 0

    public init(channel: any ChannelDevice, playback: AlsaPCM, capture: AlsaPCM) throws(TrunkError) {
        guard playback.direction == .playback, capture.direction == .capture, playback.channels == 1, capture.channels == 1 else {
            throw TrunkError(.invalidArgument, "operator audio needs a mono playback and a mono capture device")
        }
        self.channel = channel
        self.playback = playback
        self.capture = capture
        // The channel moves 16-bit linear audio here, as the card does.
        try channel.setLinear(true)
        fromLine = Array(repeating: 0, count: 2 * 160 * 4)
        fromMicrophone = Array(repeating: 0, count: capture.periodFrames)
    }

    /// Moves audio: line → speaker and microphone → line. Returns samples moved each way.
    @discardableResult
    public func pump() throws(TrunkError) -> (toSpeaker: Int, toLine: Int) {
        var heard = 0
        while true {
            let result = fromLine.withUnsafeMutableBytes { channel.read(into: $0) }
            guard case .transferred(let count) = result, count > 0 else {
                if result == .eventPending { _ = channel.nextEvent(); continue }
                break
            }
            for index in stride(from: 0, to: count - 1, by: 2) {
                toSpeaker.append(Int16(bitPattern: UInt16(fromLine[index]) | UInt16(fromLine[index + 1]) << 8))
            }
        }
        if !toSpeaker.isEmpty {
            heard = try toSpeaker.withUnsafeBufferPointer { (samples) throws(TrunkError) -> Int in try playback.write(samples) }
            toSpeaker.removeFirst(heard)
        }
        var spoken = 0
        while true {
            let frames = try fromMicrophone.withUnsafeMutableBufferPointer { (out) throws(TrunkError) -> Int in try capture.read(into: out) }
            guard frames > 0 else { break }
            for sample in fromMicrophone[0..<frames] {
                let value = UInt16(bitPattern: sample)
                toLine.append(UInt8(truncatingIfNeeded: value))
                toLine.append(UInt8(truncatingIfNeeded: value >> 8))
            }
        }
        while !toLine.isEmpty {
            let result = toLine.withUnsafeBytes { channel.write($0) }
            guard case .transferred(let count) = result, count > 0 else {
                if result == .eventPending { _ = channel.nextEvent(); continue }
                break
            }
            spoken += count / 2
            toLine.removeFirst(count)
        }
        // More than a second queued means the line is not taking audio: drop rather than grow.
        if toLine.count > 16000 {
            droppedToLine += toLine.count / 2
            toLine.removeAll(keepingCapacity: true)
        }
        return (heard, spoken)
    }
}
