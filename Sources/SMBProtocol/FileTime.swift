/// FILETIME (MS-DTYP 2.3.3): 100 ns intervals since 1601-01-01 UTC.
public struct FileTime: Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Seconds between 1601-01-01 and 1970-01-01.
    static let unixEpochOffset: UInt64 = 11_644_473_600

    /// Unix time as (seconds, nanoseconds), nanoseconds in 0..<10^9 as in a timespec, so times
    /// before 1970 are negative seconds. 0 ("no time", MS-FSCC 2.4.7) shows as 1970.
    public var unix: (seconds: Int64, nanoseconds: Int64) {
        guard rawValue != 0 else { return (0, 0) }
        // FILETIME is a signed 64-bit count (MS-DTYP 2.3.3): larger values are not times.
        let ticks = min(rawValue, UInt64(Int64.max))
        return (Int64(ticks / 10_000_000) - Int64(Self.unixEpochOffset), Int64(ticks % 10_000_000) * 100)
    }

    /// From a Unix time (a timespec: nanoseconds 0..<10^9). Times before 1601 become the first
    /// tick after it (0 would mean "leave unchanged" in SET_INFO, MS-FSCC 2.4.7); times past
    /// what FILETIME holds (year 30828), the last.
    public init(unixSeconds: Int64, nanoseconds: Int64 = 0) {
        let offset = Int64(Self.unixEpochOffset)
        let maxSeconds = Int64.max / 10_000_000 - offset - 1
        let s = min(max(unixSeconds, -offset), maxSeconds) + offset
        let ticks = UInt64(s) * 10_000_000 + UInt64(min(max(0, nanoseconds), 999_999_999) / 100)
        rawValue = max(1, ticks)
    }
}
