#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOSSL
import TrunkCTI

/// TLS for CTI listeners: the server certificate and key read from PEM files, checked when the
/// server starts, and a TLS handler (TLS 1.2 or later; BoringSSL picks 1.3 whenever the client
/// offers it) put in front of the CTI framing on every connection the listener accepts.
public struct CTITLSServerSecurity: CTITransportSecurity {
    private let context: NIOSSLContext

    /// The loader `CTIServer(tls:)` takes.
    public static let loader: CTITLSLoader = { files in try CTITLSServerSecurity(files: files) }

    /// Reads and checks both files; the error names the file and what is wrong with it.
    public init(files: CTITLSFiles) throws(CTITLSError) {
        let certificateBytes = try Self.read(files.certificatePath, what: "certificate")
        let keyBytes = try Self.read(files.privateKeyPath, what: "private key")
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            certificates = []
        }
        guard !certificates.isEmpty else {
            throw CTITLSError(
                path: files.certificatePath,
                problem: "not a PEM certificate: expected a \"-----BEGIN CERTIFICATE-----\" block (the server's certificate, then any intermediates)"
                    + (Self.looksLikeKey(certificateBytes) ? "; this file holds a private key" : ""))
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            let encrypted = Self.contains(keyBytes, "ENCRYPTED")
            throw CTITLSError(
                path: files.privateKeyPath,
                problem: encrypted
                    ? "the private key is encrypted: give the key without a passphrase (openssl pkey -in KEY -out KEY.pem)"
                    : "not a PEM private key: expected a \"-----BEGIN PRIVATE KEY-----\" (or RSA/EC PRIVATE KEY) block"
                        + (Self.contains(keyBytes, "BEGIN CERTIFICATE") ? "; this file holds a certificate" : ""))
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            // Both files parsed on their own: what the library refuses is the pair (BoringSSL
            // checks that the key belongs to the leaf certificate's public key).
            throw CTITLSError(
                path: files.privateKeyPath,
                problem: "this private key does not match the certificate in \(files.certificatePath) (\(error))")
        }
    }

    public func addServerHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(NIOSSLServerHandler(context: context))
    }

    /// The file's bytes, or an error that says why it cannot be had.
    private static func read(_ path: String, what: String) throws(CTITLSError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw CTITLSError(path: path, problem: "cannot use it as the TLS \(what): \(reason)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CTITLSError(path: path, problem: "the TLS \(what) must be a regular file (PEM), not a directory or device")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw CTITLSError(path: path, problem: "cannot read the TLS \(what): \(reason) (trunkd runs as uid \(getuid()))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = block.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CTITLSError(path: path, problem: "cannot read the TLS \(what): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += block[0..<count]
            // PEM files of a certificate chain are a few kilobytes; a huge file is the wrong file.
            if bytes.count > 1 << 20 { throw CTITLSError(path: path, problem: "the TLS \(what) is over 1 MiB: not a PEM file") }
        }
        if bytes.isEmpty { throw CTITLSError(path: path, problem: "the TLS \(what) file is empty") }
        return bytes
    }

    private static func looksLikeKey(_ bytes: [UInt8]) -> Bool { contains(bytes, "PRIVATE KEY-----") }

    private static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { start in bytes[start..<start + needle.count].elementsEqual(needle) }
    }
}

/// A TLS file that cannot be used: which file, and what is wrong with it.
public struct CTITLSError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}
