import G168Harness
import TrunkMedia

/// ns per sample per channel of ``EchoCanceller`` on a G.168 scenario.
enum SpeedBenchmark {
    /// Runs `channels` independent cancellers (as a media thread would) over
    /// the scenario in `chunk`-sample pieces (8: DAHDI's 1 ms chunk); returns
    /// the medians over `runs` of ns per sample per channel (thread CPU time
    /// and wall time).
    static func measureCanceller(scenario: EchoScenario, taps: Int, nlp: Bool, channels: Int, runs: Int,
                                 chunk: Int = 8) -> RunTime {
        let cancellers = (0..<channels).map { _ in
            EchoCanceller(configuration: .init(tailTaps: taps, nonLinearProcessing: nlp, comfortNoise: nlp))
        }
        // Unretained references (the array above keeps the cancellers alive):
        // a media thread owns its channels for the whole loop, and calling
        // through a strong reference loaded from memory would add a retain
        // and a release per channel per tick to every figure.
        let unretained = cancellers.map { Unmanaged.passUnretained($0) }
        var output = [Int16](repeating: 0, count: chunk)
        var results: [RunTime] = []
        let count = scenario.reference.count / chunk * chunk
        for _ in 0..<runs {
            for c in cancellers { c.reset() }
            let time = RunTime.measure {
                unretained.withUnsafeBufferPointer { channels in
                    scenario.reference.withUnsafeBufferPointer { r in
                        scenario.nearEnd.withUnsafeBufferPointer { s in
                            output.withUnsafeMutableBufferPointer { o in
                                var n = 0
                                while n < count {
                                    let rb = UnsafeBufferPointer(rebasing: r[n..<n + chunk])
                                    let sb = UnsafeBufferPointer(rebasing: s[n..<n + chunk])
                                    for i in 0..<channels.count {
                                        channels[i]._withUnsafeGuaranteedRef { $0.process(reference: rb, nearEnd: sb, output: o) }
                                    }
                                    n += chunk
                                }
                            }
                        }
                    }
                }
            }
            results.append(RunTime(wall: time.wall / Double(count * channels), cpu: time.cpu / Double(count * channels)))
        }
        withExtendedLifetime(cancellers) {}
        return RunTime(wall: median(results.map(\.wall)), cpu: median(results.map(\.cpu)))
    }
}
