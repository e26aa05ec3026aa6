/// FILETIME (MS-DTYP 2.3.3): 100 ns intervals since 1601-01-01 UTC.
public struct FileTime: Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Seconds between 1601-01-01 and 1970-01-01.
    static let unixEpochOffset: UInt64 = 11_644_473_600

    /// Unix time as (seconds, nanoseconds). Times before 1970 clamp to 0.
    public var unix: (seconds: Int64, nanoseconds: Int64) {
        let ticks = rawValue
        let epochTicks = Self.unixEpochOffset * 10_000_000
        guard ticks > epochTicks else { return (0, 0) }
        let t = ticks - epochTicks
        return (Int64(t / 10_000_000), Int64(t % 10_000_000) * 100)
    }

    public init(unixSeconds: Int64, nanoseconds: Int64 = 0) {
        let s = max(0, unixSeconds)
        rawValue = (UInt64(s) + Self.unixEpochOffset) * 10_000_000 + UInt64(max(0, nanoseconds) / 100)
    }
}
