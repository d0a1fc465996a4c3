#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// The CTI audit trail: one JSON object per line, appended (O_APPEND, so concurrent writers and
/// a crash can at worst cut the last line short, never rewrite one) to a file only its owner
/// can read. Logins, failed and refused logins, denied requests and supervision starts
/// (snoop, force release) are written here with who (token name, client, peer, uid/user) and when.
public final class CTIAuditLog: Sendable {
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String {
            "\(path): cannot open the CTI audit log for appending: \(String(cString: strerror(errno))) (expected a writable file path)"
        }
    }

    private let descriptor: NIOLockedValueBox<Int32>
    public let path: String

    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OpenError(path: path, errno: errno) }
        self.path = path
        self.descriptor = NIOLockedValueBox(fd)
    }

    deinit {
        descriptor.withLockedValue { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Appends one record: `time` and `event` first, then the given fields.
    public func record(_ event: String, _ fields: [(String, JSONValue)]) {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{\"time\":")
        CTIClock.writeRFC3339(CTIClock.wallMicroseconds(), into: &writer)
        writer.raw(",\"event\":")
        writer.write(event)
        for (key, value) in fields {
            writer.raw(",")
            writer.key(key)
            writer.write(value)
        }
        writer.raw("}\n")
        let line = writer.bytes
        descriptor.withLockedValue { fd in
            guard fd >= 0 else { return }
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}
