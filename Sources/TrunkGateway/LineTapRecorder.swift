import Foundation
import Logging
import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkRecording

/// Writes a line tap's voice-activated recordings into the node's recording store, as they
/// happen: mono (a tap hears both parties on one pair, so there are no sides to keep apart),
/// direction "tap", tagged `vox` and `port=<name>`. A tap recording has no call behind it, so
/// its call id is its own id. Runs on the tap's reading thread.
final class LineTapRecorder: LineTapRecordingSink, @unchecked Sendable {
    struct Totals: Sendable {
        var recordings = 0
        var seconds = 0.0
        /// Recordings the store refused to start (full, or a write error); the store alarms.
        var refused = 0
        var lastRefusal: String?
    }

    let recorder: Recorder
    private let port: String
    private let logger: Logger
    private let format: RecordingFormat
    private var current: (id: String, tap: RecordingTap)?
    private var samplesInCurrent = 0
    /// The agent side of the store's stereo tap: silence, summed away in the mono file.
    private var silence: [Int16] = []
    private let totalsBox = NIOLockedValueBox(Totals())

    init(recorder: Recorder, port: String, logger: Logger) {
        self.recorder = recorder
        self.port = port
        self.logger = logger
        format = RecordingFormat(encoding: recorder.store.configuration.format.encoding, layout: .mono)
    }

    var totals: Totals { totalsBox.withLockedValue { $0 } }
    var activeRecording: String? { current?.id }

    func lineTapOpened(startSample: Int, heardThrough: Int) {
        let id = CallIdentifier.make()
        let startedAt = Date().addingTimeInterval(-Double(max(0, heardThrough - startSample)) / Double(Tick.sampleRate))
        let request = RecordingRequest(recordingId: id, callId: id, direction: "tap", tags: ["vox", "port=\(port)"],
                                       startedAt: startedAt, format: format)
        do {
            current = (id, try recorder.start(request))
            samplesInCurrent = 0
            logger.info("voice-activated recording opened", metadata: ["port": "\(port)", "recording": "\(id)"])
        } catch {
            current = nil
            let reason = "\(error)"
            totalsBox.withLockedValue { $0.refused += 1; $0.lastRefusal = reason }
            logger.error("voice-activated recording refused by the store", metadata: ["port": "\(port)", "error": "\(reason)"])
        }
    }

    func lineTapAudio(_ samples: UnsafeBufferPointer<Int16>) {
        guard let current else { return }
        if silence.count < samples.count { silence = Array(repeating: 0, count: samples.count) }
        // A full ring drops the block; the recorder counts it, states it on the recording and alarms.
        silence.withUnsafeBufferPointer { zeros in
            _ = current.tap.append(trunk: samples, agent: UnsafeBufferPointer(rebasing: zeros[0..<samples.count]))
        }
        samplesInCurrent += samples.count
    }

    func lineTapClosed(endSample: Int) {
        guard let current else { return }
        self.current = nil
        let seconds = Double(samplesInCurrent) / Double(Tick.sampleRate)
        do {
            try recorder.stop(current.id, RecordingEnd(endedAt: Date()))
        } catch {
            logger.error("voice-activated recording could not be closed", metadata: ["recording": "\(current.id)", "error": "\(error)"])
        }
        totalsBox.withLockedValue { $0.recordings += 1; $0.seconds += seconds }
        logger.info("voice-activated recording closed", metadata: ["port": "\(port)", "recording": "\(current.id)", "seconds": "\(seconds)"])
    }
}
