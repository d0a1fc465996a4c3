import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TrunkCore
import TrunkHardware

/// A configured ALSA line tap running under trunkd: it reads the card, applies VOX, and
/// reports each voice-activated recording (to the recording store once that lands; to the
/// log and the node's status now).
public final class LineTapService: Service, @unchecked Sendable {
    public let name: String
    private let tap: AlsaLineTap
    private let logger: Logger
    private let state = NIOLockedValueBox((recordings: 0, seconds: 0.0))

    public init(port: TrunklineConfig.Port, logger: Logger) throws(TrunkError) {
        name = port.name
        self.logger = logger
        let pcm = try AlsaPCM(device: port.device, direction: .capture)
        let state = self.state
        let label = port.name
        tap = try AlsaLineTap(pcm: pcm, settings: port.vox) { recording in
            let seconds = Double(recording.samples.count) / Double(Tick.sampleRate)
            state.withLockedValue { $0.recordings += 1; $0.seconds += seconds }
            logger.info("voice-activated recording closed", metadata: ["port": "\(label)", "seconds": "\(seconds)"])
        }
    }

    public var summary: String {
        let (recordings, seconds) = state.withLockedValue { ($0.recordings, $0.seconds) }
        let statistics = tap.pcm.statistics
        return "line tap \(name) on \(tap.pcm.device): \(tap.isRecording ? "recording" : "idle"), \(recordings) recordings (\(Int(seconds)) s), overruns \(statistics.overruns)"
    }

    /// Reads the card on a thread of its own (ALSA waits block), until trunkd stops.
    public func run() async throws {
        let running = NIOLockedValueBox(true)
        let tap = self.tap
        let logger = self.logger
        let name = self.name
        Thread.detachNewThread {
            while running.withLockedValue({ $0 }) {
                do {
                    try tap.poll(timeoutMs: 50)
                } catch {
                    logger.error("line tap failed", metadata: ["port": "\(name)", "error": "\(error)"])
                    Thread.sleep(forTimeInterval: 1)
                }
            }
        }
        try? await gracefulShutdown()
        running.withLockedValue { $0 = false }
    }
}
