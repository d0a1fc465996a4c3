import TrunkCore
import TrunkMedia

/// One G.168-style measurement set-up: what the canceller receives, and the
/// echo it should remove, all as 16-bit samples that crossed an A-law link.
public struct EchoScenario: Sendable {
    /// Far-end signal after A-law (Rin = Rout): the canceller's reference.
    public let reference: [Int16]
    /// Near-end input (Sin) after A-law: echo + background noise + near talker.
    public let nearEnd: [Int16]
    /// Sin as it would be without the near talker (A-law, same noise): the
    /// "echo" term of ERLE.
    public let echoOnly: [Int16]
    /// The part of `echoOnly` no linear canceller can remove: background noise
    /// and A-law quantisation (echoOnly − exact linear echo).
    public let irreducible: [Int16]

    /// Background noise level of G.168 tests.
    public static let backgroundNoiseLevel: Float = -65

    /// - Parameters:
    ///   - far: linear far-end signal.
    ///   - path: echo path model with its bulk delay.
    ///   - erl: echo return loss in dB.
    ///   - nearTalker: optional linear near-end speech, same length as `far`.
    public init(far: [Float], path: EchoPathModel, erl: Float, nearTalker: [Float]? = nil, noiseSeed: UInt64 = 65) {
        let reference = far.map { aLawRoundTrip(Self.clamp($0)) }
        let echo = path.echo(of: reference.map { Float($0) }, erl: erl)
        var random = TestRandom(seed: noiseSeed)
        let noiseRMS = SignalLevel.rms(dBm0: Self.backgroundNoiseLevel)
        var echoOnly = [Int16](repeating: 0, count: far.count)
        var nearEnd = [Int16](repeating: 0, count: far.count)
        for n in 0..<far.count {
            let withoutTalker = echo[n] + Float(random.gaussian()) * noiseRMS
            echoOnly[n] = aLawRoundTrip(Self.clamp(withoutTalker))
            if let nearTalker {
                nearEnd[n] = aLawRoundTrip(Self.clamp(withoutTalker + nearTalker[n]))
            } else {
                nearEnd[n] = echoOnly[n]
            }
        }
        self.reference = reference
        self.nearEnd = nearEnd
        self.echoOnly = echoOnly
        irreducible = (0..<far.count).map { Self.clamp(Float(echoOnly[$0]) - echo[$0]) }
    }

    static func clamp(_ x: Float) -> Int16 {
        Int16(max(-32768, min(32767, x.rounded())))
    }

    /// Runs `canceller` over the scenario in blocks of `blockLength` samples and
    /// returns its output as the far end receives it (after A-law).
    public func run(_ canceller: EchoCanceller, blockLength: Int = 80) -> [Int16] {
        var output = [Int16](repeating: 0, count: nearEnd.count)
        reference.withUnsafeBufferPointer { r in
            nearEnd.withUnsafeBufferPointer { s in
                output.withUnsafeMutableBufferPointer { o in
                    var start = 0
                    while start < r.count {
                        let n = min(blockLength, r.count - start)
                        canceller.process(
                            reference: UnsafeBufferPointer(rebasing: r[start..<start + n]),
                            nearEnd: UnsafeBufferPointer(rebasing: s[start..<start + n]),
                            output: UnsafeMutableBufferPointer(rebasing: o[start..<start + n]))
                        start += n
                    }
                }
            }
        }
        return output.map { aLawRoundTrip($0) }
    }
}

/// What an A-law channel does to a sample: encode, then decode.
@inlinable public func aLawRoundTrip(_ sample: Int16) -> Int16 { G711.alawToLinear(G711.linearToAlaw(sample)) }
