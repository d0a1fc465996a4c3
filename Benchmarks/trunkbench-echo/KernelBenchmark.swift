import CEchoKernel
import G168Harness

/// Time of each C kernel of the canceller on its own, in ns per sample of
/// the stream (a per-block kernel's time divided by the 64 samples of a
/// block), for finding where the canceller's time goes. `channels` states in
/// turn (8 in the speed benchmark), so caches see the same load.
enum KernelBenchmark {
    static func run(taps: Int, runs: Int, channels: Int) {
        let blocks = 500
        let block = Int(EC_MDF_BLOCK)
        let far = SpeechLikeSignal.compositeSource(seconds: 5, activeLevel: -15, voiced: .tableC1, seed: 11)
        let reference = far.map { Float($0) }
        let near = reference.map { $0 * 0.25 }
        let states = (0..<channels).map { _ in ec_mdf_create(Int32(taps))! }
        defer { for s in states { ec_mdf_destroy(s) } }
        var error = [Float](repeating: 0, count: block)
        var channelState = [ec_channel](repeating: ec_channel(), count: channels)
        for i in 0..<channels {
            ec_channel_init(&channelState[i], Int32(taps), 240, 80, 1e-3, 1e-5, 1)
        }
        let line = [Float](repeating: 0, count: taps + (blocks + 2) * block + 8)
        func buffer(_ value: Float) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: block)
            p.initialize(repeating: value, count: block)
            return p
        }
        let head = buffer(0.001), tail = buffer(0), nearOut = buffer(0), residual = buffer(0)
        let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: block)
        flags.initialize(repeating: 0, count: block)
        defer { for p in [head, tail, nearOut, residual] { p.deallocate() }; flags.deallocate() }
        let pcm = far.map { Int16(clamping: Int($0)) }
        var out = [Int16](repeating: 0, count: 8)

        func time(_ body: () -> Void) -> (median: Double, minimum: Double) {
            var results: [Double] = []
            for _ in 0..<runs {
                let start = threadCPUNanoseconds()
                body()
                results.append(Double(threadCPUNanoseconds() - start) / Double(blocks * block * channels))
            }
            return (median(results), results.min() ?? 0)
        }
        let filter = time {
            reference.withUnsafeBufferPointer { r in
                near.withUnsafeBufferPointer { n in
                    for b in 0..<blocks {
                        for s in states { ec_mdf_filter_background(s, r.baseAddress! + b * block, n.baseAddress! + b * block, &error) }
                    }
                }
            }
        }
        let adapt = time {
            for _ in 0..<blocks {
                for s in states { ec_mdf_adapt(s, error, 0.5, 1, -0.5) }
            }
        }
        let copy = time {
            for _ in 0..<blocks {
                for s in states { ec_mdf_copy_to_foreground(s) }
            }
        }
        let perSample = time {
            line.withUnsafeBufferPointer { l in
                pcm.withUnsafeBufferPointer { p in
                    channelState.withUnsafeMutableBufferPointer { cs in
                        for b in 0..<blocks * block / 8 {
                            for i in 0..<channels {
                                let offset = (b % 8) * 8
                                var chunk = ec_chunk(
                                    line: UnsafeMutablePointer(mutating: l.baseAddress! + taps + b * 8),
                                    head: head, tail_echo: tail + offset, near: nearOut + offset,
                                    residual: residual + offset, flags: flags + offset,
                                    geigel_threshold: 0.5, far_active_energy: 1000, nlp: 1, comfort_noise: 1)
                                _ = ec_channel_process(&cs[i], &chunk, p.baseAddress! + b * 8, p.baseAddress! + b * 8, &out, 8)
                            }
                        }
                    }
                }
            }
        }
        // One forward and one inverse 128-point transform per block, for
        // scale: the filter runs about five per block.
        var spectrumRe = [Float](repeating: 0, count: block), spectrumIm = [Float](repeating: 0, count: block)
        var back = [Float](repeating: 0, count: 2 * block)
        let transforms = time {
            reference.withUnsafeBufferPointer { r in
                for b in 0..<blocks {
                    for _ in 0..<channels {
                        ec_fft_real128(r.baseAddress! + b * block, &spectrumRe, &spectrumIm)
                        ec_fft_inverse_real128(spectrumRe, spectrumIm, &back)
                    }
                }
            }
        }
        print("kernel (\(taps) taps, \(channels) channels)   ns/sample (thread CPU time) median   min   (\(runs) runs)")
        for (name, t) in [("ec_mdf_filter_background", filter), ("ec_mdf_adapt", adapt),
                          ("ec_mdf_copy_to_foreground", copy), ("ec_channel_process", perSample),
                          ("ec_fft_real128 + inverse", transforms)] {
            print("\(name.padding(34)) \(format2(t.median).padding(8)) \(format2(t.minimum))")
        }
    }
}
