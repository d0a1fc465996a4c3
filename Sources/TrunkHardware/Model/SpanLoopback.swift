/// A span's maintenance loopback (DAHDI_MAINT): `local` turns what the span transmits back
/// into its own receiver; `network` (line loopback) sends what arrives from the line straight
/// back to it, so the far end can test the path up to here.
public enum SpanLoopback: String, Sendable, Codable, CaseIterable {
    case off
    case local
    case network
}
