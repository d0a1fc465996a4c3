import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TrunkCore
import TrunkHardware
import TrunkRecording

/// A configured ALSA line tap running under trunkd: it reads the card, applies VOX, and writes
/// each voice-activated recording into the node's recording store while it happens.
public final class LineTapService: Service, @unchecked Sendable {
    public let name: String
    private let tap: AlsaLineTap
    private let sink: LineTapRecorder
    private let logger: Logger

    public init(port: TrunklineConfig.Port, recorder: Recorder, logger: Logger) throws(TrunkError) {
        name = port.name
        self.logger = logger
        let pcm = try AlsaPCM(device: port.device, direction: .capture)
        sink = LineTapRecorder(recorder: recorder, port: port.name, logger: logger)
        tap = try AlsaLineTap(pcm: pcm, settings: port.vox, sink: sink)
    }

    /// The store this tap writes to (its health feeds the alarm monitor).
    public var recorder: Recorder { sink.recorder }

    public var summary: String {
        let totals = sink.totals
        let statistics = tap.pcm.statistics
        var text = "line tap \(name) on \(tap.pcm.device): \(tap.isRecording ? "recording" : "idle"), \(totals.recordings) recordings (\(Int(totals.seconds)) s), overruns \(statistics.overruns)"
        if totals.refused > 0 { text += ", \(totals.refused) refused by the store" }
        return text
    }

    /// Reads the card on a thread of its own (ALSA waits block) until trunkd stops; a recording
    /// in progress is then closed, so it is finalized with everything heard.
    public func run() async throws {
        let running = NIOLockedValueBox(true)
        let tap = self.tap
        let logger = self.logger
        let name = self.name
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    while running.withLockedValue({ $0 }) {
                        do {
                            try tap.poll(timeoutMs: 50)
                        } catch {
                            logger.error("line tap failed", metadata: ["port": "\(name)", "error": "\(error)"])
                            Thread.sleep(forTimeInterval: 1)
                        }
                    }
                    tap.closeRecording()
                    finished.resume()
                }
            }
        } onCancelOrGracefulShutdown: {
            running.withLockedValue { $0 = false }
        }
    }
}
