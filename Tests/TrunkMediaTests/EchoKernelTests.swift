import CEchoKernel
import G168Harness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The C kernel's building blocks on their own: the 128-point real FFT of the
/// frequency-domain filter and the short FIR of its time-domain head.
@Suite struct EchoKernelTests {
    static func randomSignal(_ count: Int, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in Float(random.gaussian() * 3000) }
    }

    /// Packed layout: re[0] = bin 0, im[0] = bin 64, bins 1...63 complex.
    @Test func realFFTMatchesTheDefinition() {
        let x = Self.randomSignal(128, seed: 7)
        var re = [Float](repeating: 0, count: 64)
        var im = [Float](repeating: 0, count: 64)
        ec_fft_real128(x, &re, &im)
        var worst: Double = 0
        for k in 0...64 {
            var sr: Double = 0
            var si: Double = 0
            for n in 0..<128 {
                let angle = 2 * Double.pi * Double(k * n) / 128
                sr += Double(x[n]) * cos(angle)
                si -= Double(x[n]) * sin(angle)
            }
            let (gr, gi): (Double, Double) = switch k {
            case 0: (Double(re[0]), 0)
            case 64: (Double(im[0]), 0)
            default: (Double(re[k]), Double(im[k]))
            }
            worst = max(worst, abs(sr - gr), abs(si - gi))
        }
        // Spectrum magnitudes are about 3000 · √128 ≈ 34,000.
        #expect(worst < 0.5, "largest bin error \(worst)")
    }

    @Test func inverseRealFFTRoundTrips() {
        let x = Self.randomSignal(128, seed: 8)
        var re = [Float](repeating: 0, count: 64)
        var im = [Float](repeating: 0, count: 64)
        ec_fft_real128(x, &re, &im)
        var back = [Float](repeating: 0, count: 128)
        ec_fft_inverse_real128(re, im, &back)
        let worst = zip(x, back).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.01, "largest sample error \(worst)")
    }

    /// The head filter gives each output the same arithmetic wherever it sits
    /// in a pass, which is what keeps the canceller's output independent of
    /// the caller's block length.
    @Test func shortFIRDoesNotDependOnGrouping() {
        let x = Self.randomSignal(64 + 64 + 8, seed: 9)
        let h = Self.randomSignal(64, seed: 10).map { $0 / 30000 }
        var all = [Float](repeating: 0, count: 64)
        ec_kernel_fir_short(h, x, 64, &all, 64)
        var reference = [Float](repeating: 0, count: 64)
        ec_kernel_fir_block(h, x, 64, &reference, 64)
        for start in [1, 3, 8, 13] {
            var part = [Float](repeating: 0, count: 11)
            x.withUnsafeBufferPointer { xs in
                ec_kernel_fir_short(h, xs.baseAddress! + start, 64, &part, 11)
            }
            #expect(Array(all[start..<start + 11]) == part, "outputs from \(start)")
        }
        let worst = zip(all, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.05, "short FIR vs block FIR: \(worst)")
    }
}
