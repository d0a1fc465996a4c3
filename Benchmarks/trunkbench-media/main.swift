#if canImport(Glibc)
import Glibc
#endif
import CMallocCounter
import TrunkMedia

// trunkbench-media pipeline [--channels N] [--runs R] [--block 1|8|20] [--taps T (0: no canceller)] [--spandsp-dtmf]
//     (b) the full per-channel pipeline (decode, EC 1024 taps, detectors, stereo tap,
//         encode) as channels per core in real time, against a plain decode→encode copy loop
// trunkbench-media lateness [--channels N] [--seconds S] [--block 1|8|20 (default 20)] [--cpu C]
//     (c) tick lateness p50/p99/p99.9/max on a real-time thread with the loop loaded,
//         after the same with an empty loop (the machine's own jitter)
// trunkbench-media alloc [--channels N] [--block 1|8|20]
//     (d) allocations per tick over 1000 ticks (must be 0)
// trunkbench-media            all three with their defaults
let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> Int? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil }
}

func blockSize(default value: MediaBlockSize) -> MediaBlockSize {
    guard let ms = option("--block") else { return value }
    guard let size = MediaBlockSize(rawValue: ms * 8) else {
        print("--block takes 1, 8 or 20 (milliseconds), not \(ms)")
        exit(1)
    }
    return size
}

let detectorText = BenchDetectors.names.isEmpty ? "no detectors (TrunkMedia/DSP not merged)" : BenchDetectors.names.joined(separator: " + ")

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func fixed(_ value: Double, _ digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}

/// This thread's CPU time (ns): what channels per core is about, and, unlike the wall clock,
/// not inflated when the scheduler gives the core to another process (the machine is shared).
func threadCPUNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// CPU nanoseconds for `cycles` blocks of every channel (each `ticksPerBlock` ticks), timed in
/// stretches of 128 with the taps drained
/// in between, untimed: that is the recording writer's work, on another thread in production.
func timePipeline(_ rig: PipelineRig, cycles: Int) -> Double {
    var total: UInt64 = 0
    var done = 0
    while done < cycles {
        let stretch = min(128, cycles - done)
        let start = threadCPUNanoseconds()
        for _ in 0..<stretch { rig.loop.runBlock() }
        total += threadCPUNanoseconds() - start
        rig.drain()
        done += stretch
    }
    return Double(total)
}

func timeCopy(_ rig: CopyRig, cycles: Int) -> Double {
    let start = threadCPUNanoseconds()
    for _ in 0..<cycles { rig.runCycle() }
    return Double(threadCPUNanoseconds() - start)
}

func runPipeline() throws {
    let channels = option("--channels") ?? 64
    let runs = max(1, option("--runs") ?? 5)
    let sizes = option("--block") != nil ? [blockSize(default: .ms1)] : MediaBlockSize.allCases
    let echoTaps = option("--taps") ?? 1024
    print("(b) full pipeline per channel: decode, echo canceller \(echoTaps) taps, \(detectorText), stereo tap, encode")
    print("    \(channels) channels bridged in pairs over echoing lines (30 ms, 12 dB), speech-like talkers; \(runs) runs, medians")
    print("    baseline: read → G.711 decode → encode → write on the same lines, same run; thread CPU time")
    print("block  pipeline ns/ch/ms  channels/core  copy ns/ch/ms  pipeline/copy")
    for size in sizes {
        let rig = try PipelineRig(channels: channels, blockSize: size, echoTaps: echoTaps)
        let copy = CopyRig(channels: channels, blockSize: size)
        // One second of audio per run; warm-up first (adaptation, caches, clock ramp-up).
        let cycles = 1000 / size.ticksPerBlock
        _ = timePipeline(rig, cycles: cycles)
        _ = timeCopy(copy, cycles: cycles)
        var pipeline: [Double] = []
        var baseline: [Double] = []
        var ratios: [Double] = []
        for _ in 0..<runs {
            let p = timePipeline(rig, cycles: cycles) / Double(channels * 1000)
            let c = timeCopy(copy, cycles: cycles) / Double(channels * 1000)
            pipeline.append(p)
            baseline.append(c)
            ratios.append(p / c)
        }
        let perChannelMs = median(pipeline)
        let perCore = Int(1_000_000 / perChannelMs)
        print("\(size.ticksPerBlock) ms".padding(7) + fixed(perChannelMs).padding(19) + "\(perCore)".padding(15)
              + fixed(median(baseline)).padding(15) + fixed(median(ratios), 1) + "×")
    }
}

/// Runs `rig`'s loop on a real-time thread for `seconds` while this thread drains its taps
/// every 5 ms (the recording writer's part), and prints both lateness histograms.
func measureLateness(_ rig: PipelineRig, label: String, seconds: Int) throws {
    let thread = MediaLoopThread(loop: rig.loop, source: MonotonicTickSource(), cpu: option("--cpu"))
    let grant = try thread.start()
    let stopAt = MonotonicClock.nanoseconds() + UInt64(seconds) * 1_000_000_000
    while MonotonicClock.nanoseconds() < stopAt {
        usleep(5000)
        rig.drain()
    }
    thread.stop()
    rig.drain()
    print("    \(label): media thread \(grant)")
    for (name, histogram) in [("woke (tick lateness)", thread.wakeLateness), ("blocks written", thread.completionLateness)] {
        print("      \(name.padding(22)) p50 \(fixed(histogram.percentileMicroseconds(0.5) / 1000, 3)) ms  p99 \(fixed(histogram.percentileMicroseconds(0.99) / 1000, 3)) ms  p99.9 \(fixed(histogram.percentileMicroseconds(0.999) / 1000, 3)) ms  max \(fixed(Double(histogram.maximumNanoseconds) / 1e6, 3)) ms  (\(histogram.count) wakes)")
    }
    let dropped = rig.taps.reduce(UInt64(0)) { $0 + $1.ring.overflowCount }
    print("      ticks \(rig.loop.statistics.ticks.load(ordering: .relaxed)), tap blocks dropped \(dropped), events dropped \(rig.loop.statistics.droppedEvents.load(ordering: .relaxed))")
}

func runLateness() throws {
    let channels = option("--channels") ?? 960
    let seconds = option("--seconds") ?? 10
    let size = blockSize(default: .ms20)
    print("(c) tick lateness against CLOCK_MONOTONIC 1 ms deadlines, \(size.ticksPerBlock) ms blocks, \(seconds) s each;")
    print("    taps drained every 5 ms by a writer thread. Baseline: the same thread with an empty loop, same run")
    try measureLateness(try PipelineRig(channels: 0, blockSize: size), label: "empty loop (baseline)", seconds: seconds)
    try measureLateness(try PipelineRig(channels: channels, blockSize: size), label: "\(channels) channels, full pipeline (\(detectorText))", seconds: seconds)
}

func runAllocations() throws {
    let channels = option("--channels") ?? 64
    let size = blockSize(default: .ms1)
    let rig = try PipelineRig(channels: channels, blockSize: size)
    for _ in 0..<100 {
        rig.loop.tick()
        rig.drain()
    }
    var allocations = 0
    for _ in 0..<1000 {
        malloc_counter_start()
        rig.loop.tick()
        allocations += malloc_counter_stop()
        rig.drain()
    }
    print("(d) allocations: \(allocations) in 1000 ticks, \(channels) channels (\(size.ticksPerBlock) ms blocks, \(detectorText)): \(fixed(Double(allocations) / 1000, 3)) per tick")
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}

do {
    switch arguments.first {
    case "pipeline": try runPipeline()
    case "lateness": try runLateness()
    case "alloc": try runAllocations()
    case nil:
        try runPipeline()
        try runAllocations()
        try runLateness()
    default:
        print("usage: trunkbench-media [pipeline [--channels N] [--runs R] [--block 1|8|20] | lateness [--channels N] [--seconds S] [--block 1|8|20] [--cpu C] | alloc [--channels N] [--block 1|8|20]]")
        exit(1)
    }
} catch {
    print("trunkbench-media: \(error)")
    exit(1)
}
