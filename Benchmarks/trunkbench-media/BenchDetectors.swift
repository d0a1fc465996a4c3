import TrunkMedia

/// The detectors each benchmarked channel runs: the DTMF receiver and the call-progress tone
/// detector (China tone zone) from TrunkMedia/DSP.
enum BenchDetectors {
    static let names = ["DTMF receiver", "call-progress tones (cn)"]
    static func make() -> [any AudioDetector] { [DTMFReceiver(), CallProgressToneDetector(zone: .cn)] }
}
