import Foundation

/// Deterministic, different signals for the two sides, so a test or benchmark can check from the
/// file alone which side landed in which channel and that no frame was lost or moved.
public enum RecordingTestSignal {
    /// Far end: 440 Hz; near end: 1 kHz at another level; `seed` shifts the phase per recording.
    public static func trunk(_ frame: Int, seed: Int = 0) -> Int16 {
        let phase: Double = 2.0 * Double.pi * 440.0 * Double(frame + seed * 37) / 8000.0
        return Int16(6000.0 * sin(phase))
    }

    public static func agent(_ frame: Int, seed: Int = 0) -> Int16 {
        let phase: Double = 2.0 * Double.pi * 1000.0 * Double(frame + seed * 53) / 8000.0
        return Int16(2500.0 * sin(phase))
    }
}
