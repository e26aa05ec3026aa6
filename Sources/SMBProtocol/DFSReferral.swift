/// DFS referrals (MS-DFSC): asked for with FSCTL_DFS_GET_REFERRALS in an IOCTL whose FileId
/// is all ones (MS-SMB2 3.2.4.20.3), answered with the targets a namespace path stands for.
public enum DFSReferral {
    /// MS-SMB2 2.2.31 CtlCode; input REQ_GET_DFS_REFERRAL, output RESP_GET_DFS_REFERRAL.
    public static let FSCTL_DFS_GET_REFERRALS: UInt32 = 0x0006_0194
    /// The highest referral version understood: 4 (MS-DFSC 2.2.2: every version up to it too).
    public static let maxReferralLevel: UInt16 = 4

    /// REQ_GET_DFS_REFERRAL (MS-DFSC 2.2.2). `path` has one leading backslash (2.2.1):
    /// "\server\share[\rest]".
    public static func request(path: String) -> [UInt8] {
        var w = WireWriter(capacity: 4 + path.utf16.count * 2)
        w.u16(maxReferralLevel)
        w.bytes(UTF16LE.encode(path))
        w.u16(0)                                   // the name's terminating null
        return w.bytes
    }
}

/// ReferralHeaderFlags (MS-DFSC 2.2.4).
public struct ReferralHeaderFlags: OptionSet, Sendable, Equatable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// R: every target is a DFS root that answers referrals itself.
    public static let referralServers = ReferralHeaderFlags(rawValue: 0x1)
    /// S: every target is storage, used without further referrals.
    public static let storageServers = ReferralHeaderFlags(rawValue: 0x2)
    /// T: target failback (version 4 only).
    public static let targetFailback = ReferralHeaderFlags(rawValue: 0x4)
}

/// One target of a referral (DFS_REFERRAL_V1..V4, MS-DFSC 2.2.5).
public struct DFSReferralEntry: Sendable, Equatable {
    public var version: UInt16
    /// ServerType 1: the target is a DFS root (further referrals may follow there); 0: storage.
    public var isRoot: Bool
    /// Seconds the referral may be cached (V2..V4; V1 has none).
    public var timeToLive: UInt32?
    /// The namespace path this entry answers for (V2..V4), "\server\namespace[\link]".
    public var dfsPath: String?
    /// Where it points: "\server\share[\path]".
    public var target: String
    /// V4 TargetSetBoundary: the first target of a set (ReferralEntryFlags 0x4).
    public var startsTargetSet: Bool

    public init(version: UInt16, isRoot: Bool, timeToLive: UInt32?, dfsPath: String?, target: String, startsTargetSet: Bool = false) {
        self.version = version
        self.isRoot = isRoot
        self.timeToLive = timeToLive
        self.dfsPath = dfsPath
        self.target = target
        self.startsTargetSet = startsTargetSet
    }
}

/// RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.4).
public struct DFSReferralResponse: Sendable, Equatable {
    /// Bytes (UTF-16, without a terminating null) of the request path the referral covers.
    public var pathConsumed: Int
    public var flags: ReferralHeaderFlags
    /// The targets, in the server's order (MS-DFSC 3.1.5.4.3: tried in this order).
    public var entries: [DFSReferralEntry]

    public init(pathConsumed: Int, flags: ReferralHeaderFlags, entries: [DFSReferralEntry]) {
        self.pathConsumed = pathConsumed
        self.flags = flags
        self.entries = entries
    }

    /// Entries more than this are refused (a server lists a handful of targets per link).
    public static let maxEntries = 256

    /// NameListReferral (ReferralEntryFlags 0x2): a domain or DC list, not a target (2.2.5.3.2).
    static let nameListReferral: UInt16 = 0x2
    static let targetSetBoundary: UInt16 = 0x4

    /// Every entry's Size and string offsets are checked against the buffer; string offsets
    /// count from the start of their own entry (2.2.5.2, 2.2.5.3). Entries listing domain or DC
    /// names are skipped: this client resolves server names only.
    public static func decode(_ b: [UInt8]) throws -> DFSReferralResponse {
        var r = WireReader(b)
        let consumed = Int(try r.u16())
        let count = Int(try r.u16())
        let flags = ReferralHeaderFlags(rawValue: try r.u32())
        guard count <= maxEntries else { throw ProtocolError.unexpected("DFS referral with \(count) entries") }
        guard consumed % 2 == 0 else { throw ProtocolError.unexpected("DFS referral PathConsumed \(consumed) is odd") }
        var entries: [DFSReferralEntry] = []
        var at = 8
        var version: UInt16?
        for _ in 0..<count {
            var e = WireReader(b, position: at)
            let v = try e.u16()
            let size = Int(try e.u16())
            // All entries of a response have the first one's version (2.2.5).
            guard version == nil || version == v else {
                throw ProtocolError.unexpected("DFS referral mixes versions \(version!) and \(v)")
            }
            version = v
            guard size >= 8, size <= b.count - at else { throw ProtocolError.badOffset(at + size) }
            let serverType = try e.u16()
            let entryFlags = try e.u16()
            /// The null-terminated UTF-16 string at `offset` from the entry's start.
            func string(_ offset: UInt16) throws -> String {
                let start = at + Int(offset)
                guard offset > 0, start < b.count else { throw ProtocolError.badOffset(start) }
                var end = start
                while true {
                    guard end + 1 < b.count else { throw ProtocolError.unexpected("DFS referral string without its null") }
                    if b[end] == 0 && b[end + 1] == 0 { break }
                    end += 2
                }
                return try UTF16LE.decode(b[start..<end])
            }
            switch v {
            case 1:
                // DFS_REFERRAL_V1 (2.2.5.1): the target inline after the fixed 8 bytes.
                let target = try string(8)
                entries.append(DFSReferralEntry(version: v, isRoot: serverType == 1, timeToLive: nil, dfsPath: nil, target: target))
            case 2:
                // DFS_REFERRAL_V2 (2.2.5.2).
                guard size >= 22 else { throw ProtocolError.unexpected("DFS referral V2 entry of \(size) bytes") }
                try e.skip(4)                      // Proximity
                let ttl = try e.u32()
                let path = try e.u16()
                try e.skip(2)                      // DFSAlternatePathOffset
                let target = try e.u16()
                entries.append(DFSReferralEntry(version: v, isRoot: serverType == 1, timeToLive: ttl,
                                                dfsPath: try string(path), target: try string(target)))
            case 3, 4:
                // DFS_REFERRAL_V3/V4 (2.2.5.3, 2.2.5.4).
                guard size >= 18 else { throw ProtocolError.unexpected("DFS referral V\(v) entry of \(size) bytes") }
                let ttl = try e.u32()
                if entryFlags & nameListReferral != 0 { break }
                let path = try e.u16()
                try e.skip(2)                      // DFSAlternatePathOffset
                let target = try e.u16()
                entries.append(DFSReferralEntry(version: v, isRoot: serverType == 1, timeToLive: ttl,
                                                dfsPath: try string(path), target: try string(target),
                                                startsTargetSet: v == 4 && entryFlags & targetSetBoundary != 0))
            default:
                throw ProtocolError.unexpected("DFS referral version \(v)")
            }
            at += size
        }
        return DFSReferralResponse(pathConsumed: consumed, flags: flags, entries: entries)
    }
}
