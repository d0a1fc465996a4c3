import TrunkMedia

/// The detectors each benchmarked channel runs. The DTMF receiver and call-progress tone
/// detector come from TrunkMedia/DSP (branch media-dsp); until they are merged the pipeline
/// is measured without detectors, and the report says so.
enum BenchDetectors {
    static let names: [String] = []
    static func make() -> [any AudioDetector] { [] }
}
