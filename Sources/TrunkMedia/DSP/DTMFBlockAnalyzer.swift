#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CDTMFKernel

/// Cuts a channel's samples into consecutive blocks and correlates each Hann-windowed block
/// with the eight DTMF frequencies: per block, the complex amplitude X[k] at each frequency,
/// with the phase referred to the block's first sample, and the windowed block's energy.
///
/// Hann rather than rectangular: a rectangular window's side lobes put a row tone 8 dB
/// stronger than its column tone 13 dB below the column tone in its bin (±1.8 dB of beating,
/// measured as lost digits at −8 dB twist); Hann's put it 28 dB below. The price, a main lobe
/// that covers the neighbouring tone of the same group, is paid by measuring frequency.
/// With the phase referred to each block's start, a tone f0 + Δf advances by
/// 2π·(f0 + Δf)·N/8000 from one block to the next: `DTMFReceiver` reads Δf from it.
struct DTMFBlockAnalyzer {
    /// The window and correlation tables, shared by every receiver of the process: 5 KB that
    /// stay in cache however many channels run.
    let tables: DTMFCorrelationTables
    var blockLength: Int { tables.blockLength }
    /// The block being accumulated: real and imaginary parts per frequency.
    let re: UnsafeMutablePointer<Float>
    let im: UnsafeMutablePointer<Float>
    private(set) var energy: Float = 0
    private(set) var position = 0

    init(tables: DTMFCorrelationTables) {
        self.tables = tables
        re = .allocate(capacity: Int(DTMF_KERNEL_TONES))
        im = .allocate(capacity: Int(DTMF_KERNEL_TONES))
        startNextBlock()
    }

    func deallocate() {
        re.deallocate()
        im.deallocate()
    }

    var isBlockComplete: Bool { position == tables.blockLength }

    /// Adds samples up to the end of the current block; returns how many it took.
    mutating func accumulate(_ samples: UnsafePointer<Int16>, count: Int) -> Int {
        let taken = min(count, tables.blockLength - position)
        dtmf_kernel_accumulate(tables.cosTable, tables.sinTable, tables.window, Int32(position), samples, Int32(taken),
                               re, im, &energy)
        position += taken
        return taken
    }

    /// Forgets the current block and starts the next one at position 0.
    mutating func startNextBlock() {
        let tones = Int(DTMF_KERNEL_TONES)
        re.update(repeating: 0, count: tones)
        im.update(repeating: 0, count: tones)
        energy = 0
        position = 0
    }
}

/// The Hann window of a block and the window-weighted cos/sin tables the kernel correlates
/// with, built once and never freed (read-only, so every thread may share them).
struct DTMFCorrelationTables: @unchecked Sendable {
    /// The tables of `DTMFReceiver.blockLength`, built on first use.
    static let standard = DTMFCorrelationTables(blockLength: DTMFReceiver.blockLength)

    let blockLength: Int
    /// w(m)·cos(2π·f_k·m/8000) and −w(m)·sin(…), `DTMF_KERNEL_TONES` values per position m.
    let cosTable: UnsafePointer<Float>
    let sinTable: UnsafePointer<Float>
    let window: UnsafePointer<Float>
    /// Σw and Σw²: a tone of amplitude A gives |X| = A·Σw/2 and windowed energy A²·Σw²/2.
    let windowSum: Float
    let windowEnergy: Float
    /// `edgeMass[k]`: the share of Σw in the last k (or, the window being symmetric, the
    /// first k) samples of a block, k = 0…N: how |X| grows as a tone fills a block.
    let edgeMass: UnsafePointer<Float>
    /// Per frequency: the phase a tone exactly at nominal advances per block, in radians.
    let nominalAdvance: UnsafePointer<Float>
    /// `DTMFKeypad.frequencies`, where the media thread reads them without touching a global.
    let frequency: UnsafePointer<Float>

    private init(blockLength: Int) {
        let tones = Int(DTMF_KERNEL_TONES)
        precondition(DTMFKeypad.frequencies.count == tones, "the kernel correlates \(tones) frequencies")
        self.blockLength = blockLength
        let cosTable = UnsafeMutablePointer<Float>.allocate(capacity: blockLength * tones)
        let sinTable = UnsafeMutablePointer<Float>.allocate(capacity: blockLength * tones)
        let window = UnsafeMutablePointer<Float>.allocate(capacity: blockLength)
        let edgeMass = UnsafeMutablePointer<Float>.allocate(capacity: blockLength + 1)
        let nominalAdvance = UnsafeMutablePointer<Float>.allocate(capacity: tones)
        let frequency = UnsafeMutablePointer<Float>.allocate(capacity: tones)
        var sum = 0.0
        var energy = 0.0
        for m in 0..<blockLength {
            let w = 0.5 - 0.5 * cos(2 * Double.pi * (Double(m) + 0.5) / Double(blockLength))
            window[m] = Float(w)
            sum += w
            energy += w * w
            for (k, f) in DTMFKeypad.frequencies.enumerated() {
                // Reduced to one turn in Double: Float would lose the phase at m·f ≈ 10⁵.
                let turns = (Double(f) * Double(m) / 8000).truncatingRemainder(dividingBy: 1)
                cosTable[m * tones + k] = Float(w * cos(2 * Double.pi * turns))
                sinTable[m * tones + k] = -Float(w * sin(2 * Double.pi * turns))
            }
        }
        var mass = 0.0
        edgeMass[0] = 0
        for k in 1...blockLength {
            mass += Double(window[blockLength - k])
            edgeMass[k] = Float(mass / sum)
        }
        for (k, f) in DTMFKeypad.frequencies.enumerated() {
            let turns = (Double(f) * Double(blockLength) / 8000).truncatingRemainder(dividingBy: 1)
            nominalAdvance[k] = Float(2 * Double.pi * turns)
            frequency[k] = f
        }
        self.cosTable = UnsafePointer(cosTable)
        self.sinTable = UnsafePointer(sinTable)
        self.window = UnsafePointer(window)
        self.edgeMass = UnsafePointer(edgeMass)
        self.nominalAdvance = UnsafePointer(nominalAdvance)
        self.frequency = UnsafePointer(frequency)
        windowSum = Float(sum)
        windowEnergy = Float(energy)
    }
}
