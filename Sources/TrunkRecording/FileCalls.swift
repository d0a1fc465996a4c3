#if canImport(Glibc)
import Glibc
#endif
import TrunkCore

/// Every file system call the recording store makes, as plain functions, so a test can force
/// ENOSPC or EIO at exactly one place. Results follow the kernel's convention: a non-negative
/// value on success, `-errno` on failure (no global errno to race on between threads).
public struct FileCalls: Sendable {
    public var open: @Sendable (_ path: String, _ flags: Int32, _ mode: UInt32) -> Int32
    public var close: @Sendable (_ fd: Int32) -> Int32
    public var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    public var pwrite: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ offset: Int64) -> Int
    public var pread: @Sendable (_ fd: Int32, _ into: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int
    public var fsync: @Sendable (_ fd: Int32) -> Int32
    public var ftruncate: @Sendable (_ fd: Int32, _ length: Int64) -> Int32
    public var fileSize: @Sendable (_ fd: Int32) -> Int64
    public var rename: @Sendable (_ from: String, _ to: String) -> Int32
    public var unlink: @Sendable (_ path: String) -> Int32
    public var mkdir: @Sendable (_ path: String, _ mode: UInt32) -> Int32
    /// Bytes available to an unprivileged writer and the file system's size, or `-errno`.
    public var statvfs: @Sendable (_ path: String) -> (available: Int64, total: Int64)?

    public init(open: @escaping @Sendable (String, Int32, UInt32) -> Int32,
                close: @escaping @Sendable (Int32) -> Int32,
                write: @escaping @Sendable (Int32, UnsafeRawBufferPointer) -> Int,
                pwrite: @escaping @Sendable (Int32, UnsafeRawBufferPointer, Int64) -> Int,
                pread: @escaping @Sendable (Int32, UnsafeMutableRawBufferPointer, Int64) -> Int,
                fsync: @escaping @Sendable (Int32) -> Int32,
                ftruncate: @escaping @Sendable (Int32, Int64) -> Int32,
                fileSize: @escaping @Sendable (Int32) -> Int64,
                rename: @escaping @Sendable (String, String) -> Int32,
                unlink: @escaping @Sendable (String) -> Int32,
                mkdir: @escaping @Sendable (String, UInt32) -> Int32,
                statvfs: @escaping @Sendable (String) -> (available: Int64, total: Int64)?) {
        self.open = open
        self.close = close
        self.write = write
        self.pwrite = pwrite
        self.pread = pread
        self.fsync = fsync
        self.ftruncate = ftruncate
        self.fileSize = fileSize
        self.rename = rename
        self.unlink = unlink
        self.mkdir = mkdir
        self.statvfs = statvfs
    }

    /// The real kernel. (Named functions rather than closures in one call: the type checker
    /// took minutes over a dozen inline closures.)
    public static let live = FileCalls(open: LiveKernel.open, close: LiveKernel.close, write: LiveKernel.write,
                                       pwrite: LiveKernel.pwrite, pread: LiveKernel.pread, fsync: LiveKernel.fsync,
                                       ftruncate: LiveKernel.ftruncate, fileSize: LiveKernel.fileSize, rename: LiveKernel.rename,
                                       unlink: LiveKernel.unlink, mkdir: LiveKernel.mkdir, statvfs: LiveKernel.statvfs)
}

enum LiveKernel {
    @Sendable static func open(_ path: String, _ flags: Int32, _ mode: UInt32) -> Int32 {
        let fd: Int32 = Glibc.open(path, flags | O_CLOEXEC, mode_t(mode))
        return fd >= 0 ? fd : -errno
    }

    @Sendable static func close(_ fd: Int32) -> Int32 {
        Glibc.close(fd) == 0 ? 0 : -errno
    }

    @Sendable static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let n: Int = Glibc.write(fd, bytes.baseAddress, bytes.count)
        return n >= 0 ? n : -Int(errno)
    }

    @Sendable static func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ offset: Int64) -> Int {
        let n: Int = Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset))
        return n >= 0 ? n : -Int(errno)
    }

    @Sendable static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int {
        let n: Int = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        return n >= 0 ? n : -Int(errno)
    }

    @Sendable static func fsync(_ fd: Int32) -> Int32 {
        Glibc.fsync(fd) == 0 ? 0 : -errno
    }

    @Sendable static func ftruncate(_ fd: Int32, _ length: Int64) -> Int32 {
        Glibc.ftruncate(fd, off_t(length)) == 0 ? 0 : -errno
    }

    @Sendable static func fileSize(_ fd: Int32) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return Int64(-errno) }
        return Int64(info.st_size)
    }

    @Sendable static func rename(_ from: String, _ to: String) -> Int32 {
        Glibc.rename(from, to) == 0 ? 0 : -errno
    }

    @Sendable static func unlink(_ path: String) -> Int32 {
        Glibc.unlink(path) == 0 ? 0 : -errno
    }

    @Sendable static func mkdir(_ path: String, _ mode: UInt32) -> Int32 {
        Glibc.mkdir(path, mode_t(mode)) == 0 ? 0 : -errno
    }

    /// fstatvfs on the folder: in Swift the name statvfs is both the struct and the call.
    @Sendable static func statvfs(_ path: String) -> (available: Int64, total: Int64)? {
        let fd: Int32 = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var info = Glibc.statvfs()
        guard fstatvfs(fd, &info) == 0 else { return nil }
        let unit = Int64(info.f_frsize)
        let available: Int64 = Int64(info.f_bavail) * unit
        let total: Int64 = Int64(info.f_blocks) * unit
        return (available, total)
    }
}

/// A failed file operation: which call, on which file, and the errno, readable.
public struct RecordingIOError: Error, CustomStringConvertible, Sendable, Equatable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }
    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))" }

    public var trunkError: TrunkError {
        TrunkError(isDiskFull ? .unavailable : .deviceError, description)
    }
}

/// The calls with errno interpreted once: EINTR retried, short writes continued, everything
/// else thrown with the call's name and the file.
public struct FileIO: Sendable {
    public let calls: FileCalls

    public init(_ calls: FileCalls = .live) { self.calls = calls }

    private func check(_ result: Int32, _ operation: String, _ path: String) throws(RecordingIOError) {
        if result < 0 { throw RecordingIOError(operation: operation, path: path, errno: -result) }
    }

    public func open(_ path: String, _ flags: Int32, mode: UInt32 = 0o640) throws(RecordingIOError) -> Int32 {
        while true {
            let fd = calls.open(path, flags, mode)
            if fd == -EINTR { continue }
            try check(fd, "open", path)
            return fd
        }
    }

    public func close(_ fd: Int32) { _ = calls.close(fd) }

    /// Writes everything or throws; `written` says how much reached the file before an error.
    public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, written: inout Int) throws(RecordingIOError) {
        var offset = 0
        while offset < bytes.count {
            let n = calls.write(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            if n == -Int(EINTR) { continue }
            if n < 0 { throw RecordingIOError(operation: "write", path: path, errno: Int32(-n)) }
            if n == 0 { throw RecordingIOError(operation: "write", path: path, errno: ENOSPC) }
            offset += n
            written += n
        }
    }

    public func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at position: Int64, path: String) throws(RecordingIOError) {
        var offset = 0
        while offset < bytes.count {
            let n = pwritePiece(fd, bytes, from: offset, at: position + Int64(offset))
            if n == -Int(EINTR) { continue }
            if n < 0 { throw RecordingIOError(operation: "pwrite", path: path, errno: Int32(-n)) }
            if n == 0 { throw RecordingIOError(operation: "pwrite", path: path, errno: ENOSPC) }
            offset += n
        }
    }

    private func pwritePiece(_ fd: Int32, _ bytes: [UInt8], from offset: Int, at position: Int64) -> Int {
        bytes.withUnsafeBytes { raw in calls.pwrite(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]), position) }
    }

    public func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(RecordingIOError) -> Int {
        while true {
            let n = calls.pread(fd, buffer, offset)
            if n == -Int(EINTR) { continue }
            if n < 0 { throw RecordingIOError(operation: "read", path: path, errno: Int32(-n)) }
            return n
        }
    }

    public func fsync(_ fd: Int32, path: String) throws(RecordingIOError) {
        while true {
            let result = calls.fsync(fd)
            if result == -EINTR { continue }
            try check(result, "fsync", path)
            return
        }
    }

    public func truncate(_ fd: Int32, to length: Int64, path: String) throws(RecordingIOError) {
        try check(calls.ftruncate(fd, length), "ftruncate", path)
    }

    public func size(_ fd: Int32, path: String) throws(RecordingIOError) -> Int64 {
        let size = calls.fileSize(fd)
        if size < 0 { throw RecordingIOError(operation: "fstat", path: path, errno: Int32(-size)) }
        return size
    }

    public func rename(_ from: String, _ to: String) throws(RecordingIOError) {
        try check(calls.rename(from, to), "rename to \(to)", from)
    }

    public func unlink(_ path: String) throws(RecordingIOError) {
        try check(calls.unlink(path), "unlink", path)
    }

    /// Makes a folder and its parents (existing ones are fine).
    public func makeDirectories(_ path: String, mode: UInt32 = 0o750) throws(RecordingIOError) {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            let result = calls.mkdir(built, mode)
            if result < 0 && result != -EEXIST { throw RecordingIOError(operation: "mkdir", path: built, errno: -result) }
        }
    }

    /// Makes a rename or a new file durable: the directory entry itself is synced.
    public func syncDirectory(_ path: String) throws(RecordingIOError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// Reads a whole (small) file, or nil if it does not exist.
    public func readFile(_ path: String) throws -> [UInt8]? {
        let fd = calls.open(path, O_RDONLY, 0)
        if fd == -ENOENT { return nil }
        try check(fd, "open", path)
        defer { close(fd) }
        let size = Int(try self.size(fd, path: path))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < size {
            let n = try pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[done..<size]), at: Int64(done), path: path)
            if n == 0 { break }
            done += n
        }
        return Array(buffer[0..<done])
    }

    /// Calls `body` with consecutive pieces of a file, for hashing and copying large files.
    public func stream(_ path: String, chunk: Int = 1 << 16, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let n = try pread(fd, buffer, at: offset, path: path)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += Int64(n)
        }
    }

    public func freeSpace(_ path: String) -> (available: Int64, total: Int64)? { calls.statvfs(path) }
}
