/// The server service's share enumeration (MS-SRVS): NetrShareEnum (opnum 15, 3.1.4.8) at
/// information level 1 (SHARE_INFO_1, 2.2.4.23), marshalled in NDR 2.0 (C706 chapter 14).
public enum SRVS {
    /// The srvsvc interface, version 3.0 (MS-SRVS 1.9), reached through the `srvsvc` pipe.
    public static let interface = DCERPC.SyntaxId("4b324fc8-1670-01d3-1278-5a47bf6ee188", major: 3, minor: 0)
    public static let pipeName = "srvsvc"
    public static let netrShareEnum: UInt16 = 15

    /// Win32 error codes NetrShareEnum answers with (MS-ERREF 2.2).
    public static let errorSuccess: UInt32 = 0
    public static let errorMoreData: UInt32 = 234

    /// No server lists more shares than this in one answer; a larger count is hostile.
    public static let maximumEntries = 100_000

    /// shi1_type (MS-SRVS 2.2.2.4): the kind in the low bits, two flags above.
    public enum ShareType: UInt32, Sendable {
        case disk = 0, printQueue = 1, device = 2, ipc = 3
        public static let special: UInt32 = 0x8000_0000
        public static let temporary: UInt32 = 0x4000_0000
    }

    /// One SHARE_INFO_1.
    public struct ShareInfo1: Sendable, Equatable {
        public var name: String
        public var type: UInt32
        public var remark: String

        public init(name: String, type: UInt32, remark: String) {
            self.name = name
            self.type = type
            self.remark = remark
        }

        public var kind: ShareType? { ShareType(rawValue: type & 0x0FFF_FFFF) }
    }

    /// The request's stub: ServerName as a unique string, a SHARE_ENUM_STRUCT asking for level
    /// 1 with an empty container, PreferedMaximumLength MAX_PREFERRED_LENGTH (all at once), and
    /// the resume handle (MS-SRVS 3.1.4.8).
    public static func shareEnumRequest(server: String, resumeHandle: UInt32) -> [UInt8] {
        var n = NDRWriter()
        n.uniqueString("\\\\" + server)
        n.u32(1)                    // SHARE_ENUM_STRUCT.Level
        n.u32(1)                    // the union's discriminant
        n.u32(0x0002_0000)          // unique pointer to the SHARE_INFO_1_CONTAINER
        n.u32(0)                    // EntriesRead
        n.u32(0)                    // Buffer: null
        n.u32(0xFFFF_FFFF)          // PreferedMaximumLength
        n.u32(0x0002_0004)          // unique pointer to ResumeHandle
        n.u32(resumeHandle)
        return n.bytes
    }

    public struct ShareEnumResponse: Sendable, Equatable {
        public var shares: [ShareInfo1]
        public var totalEntries: UInt32
        public var resumeHandle: UInt32?
        /// NET_API_STATUS: 0, or ERROR_MORE_DATA when more remain past `resumeHandle`.
        public var status: UInt32
    }

    /// Decodes the response stub; every count, offset and length is checked against the
    /// stub and against each other (NDR conformant arrays and varying strings).
    public static func decodeShareEnumResponse(_ stub: [UInt8]) throws -> ShareEnumResponse {
        var r = NDRReader(stub)
        let level = try r.u32()
        let arm = try r.u32()
        guard level == 1, arm == 1 else { throw ProtocolError.unexpected("NetrShareEnum: level \(level) answered for 1") }
        var shares: [ShareInfo1] = []
        if try r.u32() != 0 {                       // the container pointer
            let entries = Int(try r.u32())
            let buffer = try r.u32()
            guard entries <= maximumEntries else { throw ProtocolError.unexpected("NetrShareEnum: \(entries) entries") }
            if buffer != 0 {
                let count = Int(try r.u32())        // the conformant array's max_count
                guard count == entries else {
                    throw ProtocolError.unexpected("NetrShareEnum: \(count) array elements for \(entries) entries")
                }
                // Each fixed part is 12 bytes: checked against what is left before reserving.
                guard count <= r.remaining / 12 else { throw ProtocolError.truncated(needed: count * 12, available: r.remaining) }
                var fixed: [(name: Bool, type: UInt32, remark: Bool)] = []
                fixed.reserveCapacity(count)
                for _ in 0..<count {
                    let name = try r.u32() != 0
                    let type = try r.u32()
                    let remark = try r.u32() != 0
                    fixed.append((name, type, remark))
                }
                // Deferred referents, in the order of the pointers (C706 14.3.12.3).
                for f in fixed {
                    let name = f.name ? try r.conformantVaryingString() : ""
                    let remark = f.remark ? try r.conformantVaryingString() : ""
                    shares.append(ShareInfo1(name: name, type: f.type, remark: remark))
                }
            } else if entries != 0 {
                throw ProtocolError.unexpected("NetrShareEnum: \(entries) entries and no buffer")
            }
        }
        let total = try r.u32()
        let resume: UInt32? = try r.u32() != 0 ? try r.u32() : nil
        let status = try r.u32()
        return ShareEnumResponse(shares: shares, totalEntries: total, resumeHandle: resume, status: status)
    }
}

/// NDR 2.0 little-endian primitives (C706 14.2): every scalar aligned to its size from the
/// start of the stub.
struct NDRWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) {
        align(4)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    mutating func align(_ n: Int) {
        while bytes.count % n != 0 { bytes.append(0) }
    }

    mutating func raw(_ b: [UInt8]) { bytes += b }

    /// A [string, unique] wchar_t*: referent id, then max_count, offset 0 and actual_count in
    /// UTF-16 units with the terminating NUL (C706 14.3.4.2).
    mutating func uniqueString(_ s: String) {
        u32(0x0002_0008)
        let units = Array(s.utf16) + [0]
        u32(UInt32(units.count))
        u32(0)
        u32(UInt32(units.count))
        for u in units { bytes.append(UInt8(u & 0xFF)); bytes.append(UInt8(u >> 8)) }
    }
}

struct NDRReader {
    private var r: WireReader

    init(_ bytes: [UInt8]) { r = WireReader(bytes) }

    var remaining: Int { r.remaining }

    mutating func u32() throws -> UInt32 {
        try align(4)
        return try r.u32()
    }

    mutating func align(_ n: Int) throws {
        let pad = (n - r.position % n) % n
        try r.skip(min(pad, r.remaining))
    }

    /// A conformant varying UTF-16 string (max_count, offset, actual_count, units): the offset
    /// must be 0 and the actual count within the maximum and the stub; a terminating NUL is
    /// dropped.
    mutating func conformantVaryingString() throws -> String {
        let max = Int(try u32()), offset = try u32(), actual = Int(try u32())
        guard offset == 0, actual <= max else {
            throw ProtocolError.unexpected("NDR string: offset \(offset), \(actual) of \(max) units")
        }
        guard actual <= r.remaining / 2 else { throw ProtocolError.truncated(needed: actual * 2, available: r.remaining) }
        var units = try r.read(actual * 2)
        if units.count >= 2, units[units.count - 2] == 0, units[units.count - 1] == 0 { units.removeLast(2) }
        return try UTF16LE.decode(units)
    }
}
