import CDAHDI
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one system call: its return value and, when it failed, errno.
public struct SyscallResult: Sendable, Equatable {
    public var value: Int
    public var errno: Int32

    public init(value: Int, errno: Int32 = 0) {
        self.value = value
        self.errno = errno
    }

    public static func failure(_ errno: Int32) -> SyscallResult { SyscallResult(value: -1, errno: errno) }
    public var failed: Bool { value < 0 }
}

/// Every system call the DAHDI backend makes, in one place. Production uses `live`; tests
/// give a scripted kernel that records each call and forces its result, so the backend's
/// exact behaviour against the kernel ABI is checked without the kernel modules.
public struct DAHDISystem: Sendable {
    public var open: @Sendable (_ path: String, _ flags: Int32) -> SyscallResult
    public var close: @Sendable (_ fd: Int32) -> SyscallResult
    /// `request` is one of CDAHDI's request codes; `argument` points at its struct or int.
    public var ioctl: @Sendable (_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> SyscallResult
    public var read: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> SyscallResult
    public var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> SyscallResult
    public var poll: @Sendable (_ fd: Int32, _ events: Int16, _ timeoutMs: Int32) -> (result: SyscallResult, revents: Int16)
    public var fileExists: @Sendable (_ path: String) -> Bool

    public init(open: @escaping @Sendable (String, Int32) -> SyscallResult,
                close: @escaping @Sendable (Int32) -> SyscallResult,
                ioctl: @escaping @Sendable (Int32, UInt, UnsafeMutableRawPointer?) -> SyscallResult,
                read: @escaping @Sendable (Int32, UnsafeMutableRawBufferPointer) -> SyscallResult,
                write: @escaping @Sendable (Int32, UnsafeRawBufferPointer) -> SyscallResult,
                poll: @escaping @Sendable (Int32, Int16, Int32) -> (result: SyscallResult, revents: Int16),
                fileExists: @escaping @Sendable (String) -> Bool) {
        self.open = open
        self.close = close
        self.ioctl = ioctl
        self.read = read
        self.write = write
        self.poll = poll
        self.fileExists = fileExists
    }

    /// The real kernel.
    public static let live = DAHDISystem(
        open: { path, flags in
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            return SyscallResult(value: Int(fd), errno: fd < 0 ? Glibc.errno : 0)
        },
        close: { fd in
            let result = Glibc.close(fd)
            return SyscallResult(value: Int(result), errno: result < 0 ? Glibc.errno : 0)
        },
        ioctl: { fd, request, argument in
            let result = cdahdi_ioctl(fd, request, argument)
            return SyscallResult(value: Int(result), errno: result < 0 ? Glibc.errno : 0)
        },
        read: { fd, buffer in
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            return SyscallResult(value: count, errno: count < 0 ? Glibc.errno : 0)
        },
        write: { fd, bytes in
            let count = Glibc.write(fd, bytes.baseAddress, bytes.count)
            return SyscallResult(value: count, errno: count < 0 ? Glibc.errno : 0)
        },
        poll: { fd, events, timeout in
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let result = Glibc.poll(&descriptor, 1, timeout)
            return (SyscallResult(value: Int(result), errno: result < 0 ? Glibc.errno : 0), descriptor.revents)
        },
        fileExists: { path in access(path, F_OK) == 0 }
    )
}

/// errno in words, for messages people read.
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code)).lowercased()
}
