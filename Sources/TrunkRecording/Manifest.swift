#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import TrunkCore

/// The append-only manifest `ROOT/manifest.log`: one JSON line per event (finalized, repaired,
/// played, exported, purged, held, released), each carrying `prev`, the SHA-256 of the line before
/// it, so deleting or altering any line breaks the chain at the line after it. The newest line's
/// hash is also kept in the index, so cutting lines off the end is caught too.
public struct Manifest: Sendable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case finalized, repaired, played, exported, purged, held, released
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var seq: Int
        public var at: String
        public var event: Event
        public var recordings: [String]
        /// SHA-256 of the recording file, for events that fix its content (finalized, repaired).
        public var sha256: String?
        public var user: String?
        public var reason: String?
        public var detail: String?
        public var prev: String
    }

    public static let genesis = String(repeating: "0", count: 64)

    public let path: String
    private let io: FileIO

    public init(path: String, io: FileIO) {
        self.path = path
        self.io = io
    }

    public static func hash(_ line: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(line)).map { String(format: "%02x", $0) }.joined()
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Appends one event under an exclusive lock (trunkd and trunkrec both write) and syncs it.
    /// Returns the entry and the hash of its line: the new head of the chain.
    @discardableResult
    public func append(_ event: Event, recordings: [String], sha256: String? = nil, user: String? = nil,
                       reason: String? = nil, detail: String? = nil, at date: Date = Date()) throws -> (entry: Entry, hash: String) {
        let fd = try io.open(path, O_RDWR | O_CREAT | O_APPEND, mode: 0o640)
        defer { io.close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { _ = flock(fd, LOCK_UN) }
        let (lastSeq, lastHash) = try tail(fd)
        let entry = Entry(seq: lastSeq + 1, at: Self.timestamp(date), event: event, recordings: recordings, sha256: sha256,
                          user: user, reason: reason, detail: detail, prev: lastHash)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Array(try encoder.encode(entry))
        var written = 0
        try (line + [10]).withUnsafeBytes { raw in try io.writeAll(fd, raw, path: path, written: &written) }
        try io.fsync(fd, path: path)
        return (entry, Self.hash(line))
    }

    /// The last line's sequence number and hash (0 and the genesis hash for an empty manifest).
    private func tail(_ fd: Int32) throws -> (Int, String) {
        let size = Int(try io.size(fd, path: path))
        guard size > 0 else { return (0, Self.genesis) }
        var window = 4096
        while true {
            let start = max(0, size - window)
            var bytes = [UInt8](repeating: 0, count: size - start)
            let n = try bytes.withUnsafeMutableBytes { raw in try io.pread(fd, raw, at: Int64(start), path: path) }
            bytes = Array(bytes[0..<n])
            var end = bytes.count
            while end > 0 && bytes[end - 1] == 10 { end -= 1 }
            if let newline = bytes[0..<end].lastIndex(of: 10) ?? (start == 0 ? -1 : nil) {
                let line = Array(bytes[(newline + 1)..<end])
                let entry = try JSONDecoder().decode(Entry.self, from: Data(line))
                return (entry.seq, Self.hash(line))
            }
            window *= 2
        }
    }

    /// What reading the whole manifest found.
    public struct Reading: Sendable {
        public var entries: [Entry] = []
        public var lineHashes: [String] = []
        public var problems: [String] = []
        /// The last content hash the manifest states for each recording (finalized or repaired).
        public var contentHash: [String: String] = [:]
        public var purged: Set<String> = []
    }

    /// Reads and checks the chain: every line parses, sequence numbers follow each other and
    /// every `prev` is the hash of the line before. Problems name the line and what is wrong.
    public func read() throws -> Reading {
        var reading = Reading()
        guard let bytes = try io.readFile(path) else { return reading }
        var previousHash = Self.genesis
        var previousSeq = 0
        var lineNumber = 0
        for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            let hash = Self.hash(line)
            guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line)) else {
                reading.problems.append("\(path):\(lineNumber): manifest entry is not valid JSON (altered)")
                previousHash = hash
                continue
            }
            if entry.seq != previousSeq + 1 {
                if entry.seq > previousSeq + 1 {
                    let missing = entry.seq - previousSeq - 1 == 1 ? "entry \(previousSeq + 1) is" : "entries \(previousSeq + 1)…\(entry.seq - 1) are"
                    reading.problems.append("\(path):\(lineNumber): manifest \(missing) missing (deleted): seq jumps from \(previousSeq) to \(entry.seq)")
                } else {
                    reading.problems.append("\(path):\(lineNumber): manifest seq \(entry.seq) follows \(previousSeq) (entries reordered or altered)")
                }
            } else if entry.prev != previousHash {
                reading.problems.append("\(path):\(lineNumber): manifest chain broken at seq \(entry.seq): entry \(previousSeq) was altered")
            }
            previousHash = hash
            previousSeq = entry.seq
            reading.entries.append(entry)
            reading.lineHashes.append(hash)
            for id in entry.recordings {
                switch entry.event {
                case .finalized, .repaired: if let sha = entry.sha256 { reading.contentHash[id] = sha }
                case .purged: reading.purged.insert(id)
                default: break
                }
            }
        }
        return reading
    }
}
