import TrunkMedia

/// The detectors each benchmarked channel runs: the DTMF receiver and the call-progress tone
/// detector (China tone zone) from TrunkMedia/DSP. `--spandsp-dtmf` puts the spandsp-based
/// receiver (the one before `DTMFReceiver`) in its place, to compare the two.
enum BenchDetectors {
    static let spandspDTMF = CommandLine.arguments.contains("--spandsp-dtmf")
    static let names = [spandspDTMF ? "spandsp DTMF receiver" : "DTMF receiver", "call-progress tones (cn)"]
    static func make() -> [any AudioDetector] {
        [spandspDTMF ? SpanDSPDTMFReceiver() : DTMFReceiver(), CallProgressToneDetector(zone: .cn)]
    }
}
