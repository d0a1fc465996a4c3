import Foundation
import Testing
import TrunkMedia

/// A recording as sox decodes it (`sox FILE -t raw -e signed-integer -b 16 -c 2`), and the
/// checks the acceptance tests make on it: which DTMF digits each side holds (spandsp's
/// receiver, as the gateway uses it) and how much of a tone is in a stretch of one side.
struct DecodedRecording {
    var left: [Int16]
    var right: [Int16]
    var seconds: Double { Double(left.count) / 8000 }

    /// Runs `sox --i` (must say 2 channels, 8000 Hz, A-law) and decodes the file with sox.
    static func bySox(_ path: String, scratch: String) throws -> DecodedRecording {
        let info = try run("/usr/bin/sox", ["--i", path], absolute: true)
        #expect(info.status == 0 && info.stdout.contains("Channels       : 2") && info.stdout.contains("Sample Rate    : 8000")
                && info.stdout.contains("A-law"), "sox --i \(path): \(info.stdout) \(info.stderr)")
        let raw = scratch + "/decoded.raw"
        let decoded = try run("/usr/bin/sox", [path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "2", "-r", "8000", raw],
                              absolute: true)
        #expect(decoded.status == 0, "sox could not decode \(path): \(decoded.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        var left: [Int16] = [], right: [Int16] = []
        left.reserveCapacity(bytes.count / 4)
        right.reserveCapacity(bytes.count / 4)
        bytes.withUnsafeBytes { raw in
            for frame in 0..<(raw.count / 4) {
                left.append(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: frame * 4, as: Int16.self)))
                right.append(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: frame * 4 + 2, as: Int16.self)))
            }
        }
        return DecodedRecording(left: left, right: right)
    }

    /// The DTMF digits in `samples`, in order.
    static func dtmf(_ samples: [Int16]) -> String {
        let receiver = DTMFReceiver()
        var digits = ""
        samples.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = min(160, buffer.count - offset)
                receiver.process(UnsafeBufferPointer(rebasing: buffer[offset..<(offset + count)]), sampleTime: UInt64(offset))
                offset += count
                while let detection = receiver.nextDetection() {
                    if case .dtmf(let digit, _) = detection.kind { digits.append(Character(Unicode.Scalar(digit))) }
                }
            }
        }
        return digits
    }

    /// Mean power of `frequency` (Goertzel) over `from..<to` seconds of `samples`, in squared
    /// sample units: a full-scale-ish tone gives millions, A-law idle noise next to nothing.
    static func tonePower(_ samples: [Int16], frequency: Double, from: Double, to: Double) -> Double {
        let start = max(0, Int(from * 8000)), end = min(samples.count, Int(to * 8000))
        guard end > start else { return 0 }
        let coefficient = 2 * cos(2 * Double.pi * frequency / 8000)
        var s1 = 0.0, s2 = 0.0
        for index in start..<end {
            let s0 = Double(samples[index]) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        let n = Double(end - start)
        return power / (n * n / 4)
    }
}
