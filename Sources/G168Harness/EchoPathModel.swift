#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEchoKernel
import CG168

/// A G.168 Annex D hybrid echo path (models D.2 … D.9), preceded by a flat
/// bulk delay, with its gain set for a chosen echo return loss.
public struct EchoPathModel: Sendable {
    /// G.168 section number, 2…9.
    public let model: Int
    /// Flat delay in samples before the model's response starts.
    public let bulkDelay: Int
    /// Impulse response of the model alone (gain applied, unit ERL scaling).
    public let response: [Float]

    public static let allModels = Array(2...9)

    public init(model: Int, bulkDelay: Int) {
        var count: Int32 = 0
        var gain: Float = 0
        guard let taps = g168_echo_path(Int32(model), &count, &gain) else {
            preconditionFailure("no G.168 model D.\(model)")
        }
        self.model = model
        self.bulkDelay = bulkDelay
        response = (0..<Int(count)).map { Float(taps[$0]) * gain }
    }

    /// Total span of the echo: delay plus the model's length.
    public var span: Int { bulkDelay + response.count }

    /// The echo of `reference` through this path, scaled so that
    /// 10·log10(P(reference) / P(echo)) equals `erl` dB over the signal.
    public func echo(of reference: [Float], erl: Float) -> [Float] {
        // Kernel convention: time-reversed taps padded to a multiple of 64.
        let quantum = Int(EC_KERNEL_TAP_QUANTUM)
        let padded = (response.count + quantum - 1) / quantum * quantum
        var reversed = [Float](repeating: 0, count: padded)
        for (k, h) in response.enumerated() { reversed[padded - 1 - k] = h }
        let lead = padded + bulkDelay
        var history = [Float](repeating: 0, count: lead + reference.count)
        for (i, x) in reference.enumerated() { history[lead + i] = x }
        var echo = [Float](repeating: 0, count: reference.count)
        reversed.withUnsafeBufferPointer { h in
            history.withUnsafeBufferPointer { x in
                // Output n sees reference[n - bulkDelay - k] at reversed[padded - 1 - k].
                for n in 0..<reference.count {
                    let start = lead + n - bulkDelay - padded + 1
                    echo[n] = ec_kernel_fir(h.baseAddress!, x.baseAddress! + start, Int32(padded))
                }
            }
        }
        let referencePower = meanSquare(reference)
        let echoPower = meanSquare(echo)
        let gain = (referencePower / max(echoPower, 1e-12) / powf(10, erl / 10)).squareRoot()
        return echo.map { $0 * gain }
    }
}

func meanSquare(_ x: [Float]) -> Float {
    var sum: Double = 0
    for v in x { sum += Double(v) * Double(v) }
    return Float(sum / Double(max(x.count, 1)))
}
