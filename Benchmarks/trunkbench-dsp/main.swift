#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import TrunkCore
import TrunkMedia

// trunkbench-dsp [--runs N] | --matrix
// ns per sample per channel of the detectors over 60 s of speech-like signal (composite
// source, −15 dBm0, through A-law) in 160-sample blocks. Baseline, measured in the same rounds:
// spandsp's dtmf_rx alone. --matrix instead runs the DTMF acceptance matrix through the
// spandsp-based receiver and DTMFReceiver and prints the detection rates.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--matrix") {
    runAcceptanceMatrix()
    exit(0)
}
let runs = arguments.firstIndex(of: "--runs").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } ?? 7

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let signal = SpeechLikeSignal.compositeSource(seconds: 60, activeLevel: -15, voiced: .tableC1, seed: 21)
    .map { G711.alawToLinear(G711.linearToAlaw(Int16(max(-32768, min(32767, $0.rounded()))))) }

/// ns per sample of one detector over the whole signal.
func time(_ detector: AudioDetector) -> Double {
    let start = monotonicNanoseconds()
    signal.withUnsafeBufferPointer { all in
        var offset = 0
        while offset < all.count {
            let n = min(160, all.count - offset)
            detector.process(UnsafeBufferPointer(rebasing: all[offset..<offset + n]), sampleTime: UInt64(offset))
            while detector.nextDetection() != nil {}
            offset += n
        }
    }
    return Double(monotonicNanoseconds() - start) / Double(signal.count)
}

let cases: [(String, () -> AudioDetector)] = [
    ("dtmf_rx alone (baseline)", { SpanDSPDTMFReceiver(configuration: .init(maximumFrequencyError: nil)) }),
    ("dtmf_rx + DTMFFrequencyCheck (before)", { SpanDSPDTMFReceiver() }),
    ("DTMFReceiver", { DTMFReceiver() }),
    ("CallProgressToneDetector cn", { CallProgressToneDetector(zone: .cn) }),
    ("ModemToneDetector", { ModemToneDetector() }),
]
var results = [[Double]](repeating: [], count: cases.count)
_ = time(cases[0].1())   // warm-up
for _ in 0..<runs {
    for (index, entry) in cases.enumerated() { results[index].append(time(entry.1())) }
}
let baseline = median(results[0])
print("60 s CSS −15 dBm0 through A-law, 160-sample blocks, \(runs) rounds; medians")
print("detector | ns/sample | channels/core (real time) | vs baseline")
/// `x` with one decimal, without Foundation.
func oneDecimal(_ x: Double) -> String { String(Double((x * 10).rounded()) / 10) }
for (index, entry) in cases.enumerated() {
    let ns: Double = median(results[index])
    let ratios: [Double] = zip(results[index], results[0]).map { $0 / $1 }
    let channels = Int((1e9 / (ns * 8000)).rounded())
    print("\(entry.0) | \(oneDecimal(ns)) | \(channels) | \(oneDecimal(median(ratios) * 100) + " %")")
}
print("baseline median: \(oneDecimal(baseline)) ns/sample")
