#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import TrunkCore

/// Optional per-file encryption, AES-256-GCM in independent chunks so a file of any length is
/// encrypted and decrypted as a stream. File format (`<id>.wav.gcm`):
///
///     "TLRGCM01"                      8 bytes, magic
///     chunk size                      UInt32 little endian (plaintext bytes per chunk, 65536)
///     then for each chunk:  nonce (12 bytes) · ciphertext (≤ chunk size) · tag (16 bytes)
///
/// Each chunk's additional authenticated data is the recording id, the chunk's index (UInt64 LE)
/// and a final flag (1 on the last chunk), so chunks cannot be reordered, swapped between files
/// or dropped from the end without the tag check failing. The key is 32 bytes, read from a
/// key file outside the recordings root (raw 32 bytes, or 64 hex digits).
public struct RecordingCipher: Sendable {
    public static let magic = Array("TLRGCM01".utf8)
    public static let chunkSize = 65536
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(keyFile: String, io: FileIO) throws(TrunkError) {
        let bytes: [UInt8]?
        do { bytes = try io.readFile(keyFile) } catch { throw TrunkError(.permissionDenied, "cannot read encryption key file \(keyFile): \(error)") }
        guard let bytes else { throw TrunkError(.notFound, "encryption key file \(keyFile) does not exist") }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if bytes.count == 32 {
            keyBytes = bytes
        } else if text.count == 64, let decoded = Self.hex(text) {
            keyBytes = decoded
        } else {
            throw TrunkError(.invalidArgument, "encryption key file \(keyFile) must hold 32 raw bytes or 64 hex digits (AES-256), not \(bytes.count) bytes")
        }
    }

    public init(key: [UInt8]) { keyBytes = key }

    static func hex(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = text.makeIterator()
        while let a = iterator.next(), let b = iterator.next() {
            guard let byte = UInt8(String([a, b]), radix: 16) else { return nil }
            out.append(byte)
        }
        return out.count == text.count / 2 ? out : nil
    }

    private func aad(id: String, index: UInt64, final: Bool) -> [UInt8] {
        var out = Array(id.utf8)
        withUnsafeBytes(of: index.littleEndian) { out.append(contentsOf: $0) }
        out.append(final ? 1 : 0)
        return out
    }

    /// Encrypts `source` into `destination` (created, synced); the source is left as it is.
    public func encrypt(id: String, source: String, destination: String, io: FileIO) throws {
        let plain = try io.readFile(source) ?? []
        let fd = try io.open(destination, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        defer { io.close(fd) }
        var written = 0
        var header = Self.magic
        withUnsafeBytes(of: UInt32(Self.chunkSize).littleEndian) { header.append(contentsOf: $0) }
        try header.withUnsafeBytes { raw in try io.writeAll(fd, raw, path: destination, written: &written) }
        var index: UInt64 = 0
        var offset = 0
        repeat {
            let end = min(plain.count, offset + Self.chunkSize)
            let final = end == plain.count
            let sealed = try AES.GCM.seal(plain[offset..<end], using: key, authenticating: aad(id: id, index: index, final: final))
            let bytes = Array(sealed.nonce) + Array(sealed.ciphertext) + Array(sealed.tag)
            try bytes.withUnsafeBytes { raw in try io.writeAll(fd, raw, path: destination, written: &written) }
            offset = end
            index += 1
        } while offset < plain.count
        try io.fsync(fd, path: destination)
    }

    /// The plaintext of an encrypted recording; throws naming the chunk whose tag failed.
    public func decrypt(id: String, bytes: [UInt8], path: String) throws(TrunkError) -> [UInt8] {
        guard bytes.count >= 12, Array(bytes[0..<8]) == Self.magic else {
            throw TrunkError(.invalidArgument, "\(path) is not an encrypted recording (no TLRGCM01 header)")
        }
        let chunk = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        var out: [UInt8] = []
        var offset = 12
        var index: UInt64 = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 12 + chunk + 16)
            guard end - offset >= 28 else { throw TrunkError(.invalidArgument, "\(path): chunk \(index) is truncated") }
            do {
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: bytes[offset..<offset + 12]),
                                                ciphertext: bytes[offset + 12..<end - 16], tag: bytes[end - 16..<end])
                out += try AES.GCM.open(box, using: key, authenticating: aad(id: id, index: index, final: end == bytes.count))
            } catch {
                throw TrunkError(.invalidArgument, "\(path): chunk \(index) fails authentication (altered, reordered, truncated or wrong key)")
            }
            offset = end
            index += 1
        }
        return out
    }
}
