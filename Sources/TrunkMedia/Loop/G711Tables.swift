import TrunkCore

/// TrunkCore's G.711 tables copied into memory the loop owns, used through raw pointers: a
/// block is one load per sample, with no lazy-global check, bounds check or reference count.
final class G711Tables {
    private let alawDecode: UnsafeMutablePointer<Int16>
    private let ulawDecode: UnsafeMutablePointer<Int16>
    private let alawEncode: UnsafeMutablePointer<UInt8>
    private let ulawEncode: UnsafeMutablePointer<UInt8>

    init() {
        alawDecode = .allocate(capacity: 256)
        ulawDecode = .allocate(capacity: 256)
        alawEncode = .allocate(capacity: 65536)
        ulawEncode = .allocate(capacity: 65536)
        G711.alawDecodeTable.withUnsafeBufferPointer { alawDecode.initialize(from: $0.baseAddress!, count: 256) }
        G711.ulawDecodeTable.withUnsafeBufferPointer { ulawDecode.initialize(from: $0.baseAddress!, count: 256) }
        G711.alawEncodeTable.withUnsafeBufferPointer { alawEncode.initialize(from: $0.baseAddress!, count: 65536) }
        G711.ulawEncodeTable.withUnsafeBufferPointer { ulawEncode.initialize(from: $0.baseAddress!, count: 65536) }
    }

    deinit {
        alawDecode.deallocate()
        ulawDecode.deallocate()
        alawEncode.deallocate()
        ulawEncode.deallocate()
    }

    @inline(__always)
    func decode(_ bytes: UnsafePointer<UInt8>, into samples: UnsafeMutablePointer<Int16>, count: Int, law: AudioLaw) {
        let table = law == .alaw ? alawDecode : ulawDecode
        for index in 0..<count { samples[index] = table[Int(bytes[index])] }
    }

    @inline(__always)
    func encode(_ samples: UnsafePointer<Int16>, into bytes: UnsafeMutablePointer<UInt8>, count: Int, law: AudioLaw) {
        let table = law == .alaw ? alawEncode : ulawEncode
        for index in 0..<count { bytes[index] = table[Int(UInt16(bitPattern: samples[index]))] }
    }
}
