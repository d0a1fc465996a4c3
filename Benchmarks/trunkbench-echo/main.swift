import G168Harness
import TrunkMedia

// trunkbench-echo            speed: ns/sample/channel at 256/512/1024 taps vs OSLEC
//                            (thread CPU time, and wall time alongside)
// trunkbench-echo speed [--runs N] [--taps T] [--chunk C] [--no-oslec]
//                            N rounds (default 9); one tail length only; C samples
//                            per call (default 8, DAHDI's 1 ms chunk; 64 = 8 ms,
//                            160 = 20 ms media blocks); ours only
// trunkbench-echo g168 [taps] [bulkDelay]   ERLE / convergence table
// trunkbench-echo doubletalk                ERLE cost of a 2 s double-talk burst
// trunkbench-echo kernels [taps] [runs] [channels]   ns/sample of each C kernel on its own
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "g168":
    let taps = arguments.count > 1 ? Int(arguments[1]) ?? 1024 : 1024
    let delay = arguments.count > 2 ? Int(arguments[2]) ?? 400 : 400
    G168Report.run(taps: taps, bulkDelay: delay)
case "doubletalk":
    G168Report.doubleTalk()
case "kernels":
    let taps = arguments.count > 1 ? Int(arguments[1]) ?? 1024 : 1024
    let runs = arguments.count > 2 ? Int(arguments[2]) ?? 15 : 15
    let channels = arguments.count > 3 ? Int(arguments[3]) ?? 8 : 8
    KernelBenchmark.run(taps: taps, runs: max(1, runs), channels: max(1, channels))
case nil, "speed":
    let runs = arguments.firstIndex(of: "--runs").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } ?? 9
    let taps = arguments.firstIndex(of: "--taps").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil }
    let chunk = arguments.firstIndex(of: "--chunk").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } ?? 8
    runSpeed(withOSLEC: !arguments.contains("--no-oslec"), runs: max(1, runs), tapSizes: taps.map { [$0] } ?? [256, 512, 1024],
             chunk: max(1, chunk))
default:
    print("usage: trunkbench-echo [speed [--runs N] [--taps T] [--chunk C] [--no-oslec] | g168 [taps] [bulkDelay] | doubletalk | kernels [taps] [runs] [channels]]")
}

func runSpeed(withOSLEC: Bool, runs: Int, tapSizes: [Int], chunk: Int) {
    let channels = 8
    let far = SpeechLikeSignal.compositeSource(seconds: 4, activeLevel: -15, voiced: .tableC1, seed: 11)
    let scenario = EchoScenario(far: far, path: EchoPathModel(model: 5, bulkDelay: 400), erl: 6)
    print("G.168 D.5, ERL 6 dB, CSS −15 dBm0, 4 s, \(channels) channels in turn, \(chunk)-sample chunks")
    print("NLP and comfort noise on (both cancellers); OSLEC with DAHDI's modes (adaption, NLP, clip, HPFs)")
    print("\(runs) rounds, each timing ours then OSLEC back to back; medians, and the median of the rounds' ratios")
    print("ns/sample: thread CPU time (what a core spends; excludes time the shared machine gave to other processes);")
    print("wall: the same runs on the wall clock. channels/core = 1e9 / (CPU ns/sample × 8000)")
    let oslec = withOSLEC ? OSLECBaseline() : nil
    if withOSLEC, oslec == nil { print("OSLEC baseline unavailable (could not build from \(OSLECBaseline.tarball))") }
    print("taps  ours ns/sample  channels/core  OSLEC ns/sample  OSLEC/ours  (wall: ours  OSLEC  OSLEC/ours)")
    // Warm-up (page faults, lazy globals, clock ramp-up) so that the first
    // configuration timed is not penalised.
    _ = SpeedBenchmark.measureCanceller(scenario: scenario, taps: 1024, nlp: true, channels: channels, runs: 1, chunk: chunk)
    if let oslec { _ = oslec.measure(scenario: scenario, taps: 1024, channels: channels, runs: 1) }
    for taps in tapSizes {
        var ours: [RunTime] = []
        var theirs: [RunTime] = []
        var ratios: [Double] = []
        var wallRatios: [Double] = []
        for _ in 0..<runs {
            let a = SpeedBenchmark.measureCanceller(scenario: scenario, taps: taps, nlp: true, channels: channels, runs: 1, chunk: chunk)
            ours.append(a)
            if let oslec {
                let b = oslec.measure(scenario: scenario, taps: taps, channels: channels, runs: 1)
                theirs.append(b)
                ratios.append(b.cpu / a.cpu)
                wallRatios.append(b.wall / a.wall)
            }
        }
        let ns = median(ours.map(\.cpu))
        let perCore = Int(1e9 / (ns * 8000))
        var line = "\(String(taps).padding(6))\(format2(ns).padding(16))\(String(perCore).padding(15))"
        if !theirs.isEmpty {
            line += "\(format2(median(theirs.map(\.cpu))).padding(17))\((format2(median(ratios)) + "×").padding(12))"
            line += "(wall: \(format2(median(ours.map(\.wall))))  \(format2(median(theirs.map(\.wall))))  \(format2(median(wallRatios)))×)"
        } else {
            line += "(wall: \(format2(median(ours.map(\.wall)))))"
        }
        print(line)
    }
}
