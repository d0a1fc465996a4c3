#if canImport(Glibc)
import Glibc
#endif
import CSpanDSP
import G168Harness
import TrunkCore
import TrunkMedia

// trunkbench-callerid [--runs N]
//
// Cost of listening for caller ID on an idle FXO line: our auto-detecting receiver (Bell 202
// and V.23 demodulators, DTMF, the tone-set discriminator) against spandsp's own ADSI receivers
// run side by side for the same three methods (adsi_rx CLASS + CLIP + CLIP_DTMF), and against
// one adsi_rx CLIP alone. 8 channels in turn, 8-sample blocks as the media loop feeds them,
// 10 s of line per channel: −55 dBm0 noise with an FSK message at 1 s and a DTMF one at 5 s.

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

func render(_ source: some SampleSource, samples: Int) -> [Int16] {
    var out = [Int16](repeating: 0, count: samples)
    let written = out.withUnsafeMutableBufferPointer { source.fill($0) }
    return Array(out[0..<written])
}

func lineSignal(seed: UInt64) -> [Int16] {
    let identity = CallerID(number: "13912345678", name: "ZHANG WEI", dateTime: CallerIDDateTime(month: 11, day: 30, hour: 16, minute: 5))
    var random = TestRandom(seed: seed)
    let noise = SignalLevel.rms(dBm0: -55)
    var signal = (0..<80_000).map { _ in noise * Float(random.gaussian()) }
    let fsk = FSKCallerIDGenerator(method: .fskV23, levelDBm0: -20)
    fsk.start(identity)
    for (index, sample) in render(fsk, samples: 16_000).enumerated() { signal[8000 + index] += Float(sample) }
    let dtmf = DTMFGenerator(lowGroupDBm0: -20, highGroupDBm0: -22, onMs: 70, offMs: 70)
    dtmf.send(identity.dtmfDigits())
    for (index, sample) in render(dtmf, samples: 24_000).enumerated() { signal[40_000 + index] += Float(sample) }
    return signal.map { G711.alawToLinear(G711.linearToAlaw(Int16(clamping: Int($0.rounded())))) }
}

/// spandsp's ADSI receivers for `standards`, counting the messages they deliver.
final class ADSIBaseline {
    private var states: [OpaquePointer] = []
    var messages = 0

    init(standards: [Int32]) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        for standard in standards {
            states.append(adsi_rx_init(nil, standard, { context, _, _ in
                Unmanaged<ADSIBaseline>.fromOpaque(context!).takeUnretainedValue().messages += 1
            }, context))
        }
    }

    deinit { for state in states { adsi_rx_free(state) } }

    func process(_ block: UnsafePointer<Int16>) {
        for state in states { adsi_rx(state, block, 8) }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
let runs = arguments.firstIndex(of: "--runs").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } ?? 9
let channels = 8
let signals = (0..<channels).map { lineSignal(seed: UInt64($0 + 1)) }
let samples = signals[0].count

func timeOurs() -> (nsPerSample: Double, results: Int) {
    let receivers = (0..<channels).map { _ in CallerIDReceiver() }
    var results = 0
    let start = monotonicNanoseconds()
    signals.withUnsafeBufferPointer { all in
        for offset in stride(from: 0, to: samples, by: 8) {
            for channel in 0..<channels {
                all[channel].withUnsafeBufferPointer { signal in
                    receivers[channel].process(UnsafeBufferPointer(rebasing: signal[offset..<(offset + 8)]), sampleTime: UInt64(offset))
                }
            }
        }
    }
    let elapsed = Double(monotonicNanoseconds() - start)
    for receiver in receivers { while receiver.nextResult() != nil { results += 1 } }
    return (elapsed / Double(samples * channels), results)
}

func timeBaseline(_ standards: [Int32]) -> (nsPerSample: Double, results: Int) {
    let receivers = (0..<channels).map { _ in ADSIBaseline(standards: standards) }
    let start = monotonicNanoseconds()
    signals.withUnsafeBufferPointer { all in
        for offset in stride(from: 0, to: samples, by: 8) {
            for channel in 0..<channels {
                all[channel].withUnsafeBufferPointer { receivers[channel].process($0.baseAddress! + offset) }
            }
        }
    }
    let elapsed = Double(monotonicNanoseconds() - start)
    return (elapsed / Double(samples * channels), receivers.reduce(0) { $0 + $1.messages })
}

let threeMethods = [Int32(ADSI_STANDARD_CLASS), Int32(ADSI_STANDARD_CLIP), Int32(ADSI_STANDARD_CLIP_DTMF)]
let clipOnly = [Int32(ADSI_STANDARD_CLIP)]
print("caller ID listening on an idle FXO line: \(channels) channels × 10 s, 8-sample blocks, A-law, −55 dBm0 noise,")
print("an FSK (V.23, −20 dBm0) and a DTMF (−20 dBm0) caller ID per channel; \(runs) rounds, medians")
_ = timeOurs()
_ = timeBaseline(threeMethods)
var ours: [Double] = []
var three: [Double] = []
var clip: [Double] = []
var oursResults = 0
var threeResults = 0
for _ in 0..<runs {
    let a = timeOurs()
    let b = timeBaseline(threeMethods)
    let c = timeBaseline(clipOnly)
    ours.append(a.nsPerSample)
    three.append(b.nsPerSample)
    clip.append(c.nsPerSample)
    oursResults = a.results
    threeResults = b.results
}
func fmt(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }
func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
let oursNs = median(ours)
print("receiver                               ns/sample  channels/core  vs spandsp ADSI ×3")
print("ours (Bell 202 + V.23 + DTMF, auto)    \(pad(fmt(oursNs), 11))\(pad(String(Int(1e9 / (oursNs * 8000))), 15))\(fmt(median(zip(ours, three).map { $0 / $1 })))×")
print("spandsp adsi_rx CLASS+CLIP+CLIP_DTMF   \(pad(fmt(median(three)), 11))\(String(Int(1e9 / (median(three) * 8000))))")
print("spandsp adsi_rx CLIP alone             \(pad(fmt(median(clip)), 11))\(String(Int(1e9 / (median(clip) * 8000))))")
print("messages decoded in the last round: ours \(oursResults), spandsp ×3 \(threeResults) (of \(2 * channels) sent)")
