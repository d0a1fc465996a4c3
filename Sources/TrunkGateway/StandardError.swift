#if canImport(Glibc)
import Glibc
#endif

/// Writes text to standard error unbuffered, for one-line diagnostics from the executables.
public enum FileHandleStandardError {
    public static func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
