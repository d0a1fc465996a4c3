import Logging
import TrunkRecording

/// The node's recording store, opened at start: `.part` files a crash left are repaired and
/// finalized before anything new is recorded; the recorder's alarms go to the log.
public enum NodeRecorder {
    public static func open(folder: DataFolder, configuration: RecordingConfiguration?, logger: Logger) throws -> Recorder {
        var settings = configuration ?? RecordingConfiguration(root: "")
        if settings.root.isEmpty { settings.root = folder.path + "/recordings" }
        let store = try RecordingStore(configuration: settings)
        let report = try store.repairAll()
        for (id, seconds) in report.repaired {
            logger.warning("recording left by a crash repaired and finalized", metadata: ["recording": "\(id)", "seconds": "\(seconds)"])
        }
        for problem in report.problems { logger.error("recording repair problem", metadata: ["problem": "\(problem)"]) }
        return Recorder(store: store) { alarm in
            logger.error("recording alarm", metadata: ["alarm": "\(alarm)"])
        }
    }
}
