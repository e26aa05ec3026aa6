/// Security descriptors as QUERY_INFO / SET_INFO carry them (InfoType SMB2_0_INFO_SECURITY,
/// MS-SMB2 2.2.37, 2.2.39): the self-relative SECURITY_DESCRIPTOR of MS-DTYP 2.4.6 with its
/// SIDs (2.4.2.2), ACLs (2.4.5) and ACEs (2.4.4). Everything is decoded from untrusted bytes
/// with every offset, count and size bounded.

/// A security identifier (MS-DTYP 2.4.2.2).
public struct SID: Hashable, Sendable, CustomStringConvertible {
    /// IdentifierAuthority: 48 bits, big-endian on the wire.
    public var authority: UInt64
    public var subAuthorities: [UInt32]

    /// SubAuthorityCount is at most 15 (MS-DTYP 2.4.2.2).
    public static let maxSubAuthorities = 15

    public init(authority: UInt64, _ subAuthorities: [UInt32]) {
        self.authority = authority & 0xFFFF_FFFF_FFFF
        self.subAuthorities = Array(subAuthorities.prefix(Self.maxSubAuthorities))
    }

    /// "S-1-5-21-…" (MS-DTYP 2.4.2.1); nil for anything else.
    public init?(string: String) {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "S" || parts[0] == "s", parts[1] == "1",
              parts.count - 3 <= Self.maxSubAuthorities else { return nil }
        let a = parts[2]
        let authority = a.hasPrefix("0x") || a.hasPrefix("0X") ? UInt64(a.dropFirst(2), radix: 16) : UInt64(a)
        guard let authority, authority <= 0xFFFF_FFFF_FFFF else { return nil }
        var subs: [UInt32] = []
        for p in parts.dropFirst(3) {
            guard let v = UInt32(p) else { return nil }
            subs.append(v)
        }
        self.init(authority: authority, subs)
    }

    /// Authorities of 2^32 and more are written in hexadecimal (MS-DTYP 2.4.2.1).
    public var description: String {
        let a = authority < (1 << 32) ? String(authority) : "0x" + String(authority, radix: 16, uppercase: true)
        return "S-1-" + a + subAuthorities.map { "-\($0)" }.joined()
    }

    public var encodedSize: Int { 8 + 4 * subAuthorities.count }

    /// The SID without its last sub-authority (its domain), and that last one (its RID).
    public var domainAndRID: (domain: SID, rid: UInt32)? {
        guard let rid = subAuthorities.last else { return nil }
        return (SID(authority: authority, Array(subAuthorities.dropLast())), rid)
    }

    public static func decode(_ r: inout WireReader) throws -> SID {
        let revision = try r.u8()
        guard revision == 1 else { throw ProtocolError.unexpected("SID revision \(revision)") }
        let count = Int(try r.u8())
        guard count <= maxSubAuthorities else { throw ProtocolError.unexpected("SID with \(count) sub-authorities") }
        var authority: UInt64 = 0
        for b in try r.read(6) { authority = authority << 8 | UInt64(b) }
        var subs: [UInt32] = []
        subs.reserveCapacity(count)
        for _ in 0..<count { subs.append(try r.u32()) }
        return SID(authority: authority, subs)
    }

    public func encode(into w: inout WireWriter) {
        w.u8(1)
        w.u8(UInt8(subAuthorities.count))
        for shift in stride(from: 40, through: 0, by: -8) { w.u8(UInt8(truncatingIfNeeded: authority >> UInt64(shift))) }
        for s in subAuthorities { w.u32(s) }
    }

    /// S-1-1-0, Everyone (MS-DTYP 2.4.2.4).
    public static let everyone = SID(authority: 1, [0])
    /// S-1-5-18, the local system.
    public static let localSystem = SID(authority: 5, [18])
    /// S-1-3-0 and S-1-3-1, CREATOR OWNER and CREATOR GROUP (inheritable placeholders).
    public static let creatorOwner = SID(authority: 3, [0])
    public static let creatorGroup = SID(authority: 3, [1])

    /// The "NFS" SIDs Windows' NFS server and the Linux kernel's SMB client use for Unix ids
    /// and modes: S-1-5-88-1-UID, S-1-5-88-2-GID, S-1-5-88-3-MODE.
    public static func nfsUser(_ uid: UInt32) -> SID { SID(authority: 5, [88, 1, uid]) }
    public static func nfsGroup(_ gid: UInt32) -> SID { SID(authority: 5, [88, 2, gid]) }
    public static func nfsMode(_ mode: UInt32) -> SID { SID(authority: 5, [88, 3, mode]) }
    /// Samba's "Unix User" and "Unix Group" domains: S-1-22-1-UID, S-1-22-2-GID.
    public static func unixUser(_ uid: UInt32) -> SID { SID(authority: 22, [1, uid]) }
    public static func unixGroup(_ gid: UInt32) -> SID { SID(authority: 22, [2, gid]) }

    /// The uid a SID names, for the two Unix-user forms above; nil for any other SID.
    public var unixUID: UInt32? {
        if authority == 5, subAuthorities.count == 3, subAuthorities[0] == 88, subAuthorities[1] == 1 { return subAuthorities[2] }
        if authority == 22, subAuthorities.count == 2, subAuthorities[0] == 1 { return subAuthorities[1] }
        return nil
    }

    /// The gid a SID names, for the two Unix-group forms above; nil for any other SID.
    public var unixGID: UInt32? {
        if authority == 5, subAuthorities.count == 3, subAuthorities[0] == 88, subAuthorities[1] == 2 { return subAuthorities[2] }
        if authority == 22, subAuthorities.count == 2, subAuthorities[0] == 2 { return subAuthorities[1] }
        return nil
    }

    /// The mode an S-1-5-88-3-MODE SID carries; nil for any other SID.
    public var nfsMode: UInt32? {
        authority == 5 && subAuthorities.count == 3 && subAuthorities[0] == 88 && subAuthorities[1] == 3
            ? subAuthorities[2] : nil
    }
}

/// One access control entry (MS-DTYP 2.4.4). Allowed and denied ACEs (2.4.4.2, 2.4.4.4) are
/// read as mask and SID; every other type is kept as its bytes, so an ACL read and written
/// back keeps what this client does not interpret.
public struct ACE: Equatable, Sendable {
    /// AceType (2.4.4.1).
    public static let accessAllowed: UInt8 = 0
    public static let accessDenied: UInt8 = 1

    /// AceFlags (2.4.4.1).
    public static let objectInherit: UInt8 = 0x01
    public static let containerInherit: UInt8 = 0x02
    public static let inheritOnly: UInt8 = 0x08
    public static let inherited: UInt8 = 0x10

    public enum Body: Equatable, Sendable {
        case access(mask: UInt32, sid: SID)
        /// The bytes after the 4-byte header, as they came.
        case opaque([UInt8])
    }

    public var type: UInt8
    public var flags: UInt8
    public var body: Body

    public init(type: UInt8, flags: UInt8 = 0, body: Body) {
        self.type = type
        self.flags = flags
        self.body = body
    }

    public static func allowed(_ sid: SID, _ mask: UInt32, flags: UInt8 = 0) -> ACE {
        ACE(type: accessAllowed, flags: flags, body: .access(mask: mask, sid: sid))
    }

    public static func denied(_ sid: SID, _ mask: UInt32, flags: UInt8 = 0) -> ACE {
        ACE(type: accessDenied, flags: flags, body: .access(mask: mask, sid: sid))
    }

    /// The SID of an allowed or denied ACE.
    public var sid: SID? {
        if case .access(_, let sid) = body { return sid }
        return nil
    }

    public var mask: UInt32? {
        if case .access(let mask, _) = body { return mask }
        return nil
    }

    /// Applies to the object itself (not only inherited by what is created in it).
    public var appliesToObject: Bool { flags & Self.inheritOnly == 0 }

    var encodedSize: Int {
        switch body {
        case .access(_, let sid): return 8 + sid.encodedSize
        case .opaque(let b): return 4 + b.count
        }
    }

    static func decode(_ r: inout WireReader, limit: Int) throws -> ACE {
        let start = r.position
        let type = try r.u8()
        let flags = try r.u8()
        let size = Int(try r.u16())
        // AceSize covers the header; an ACE never runs past its ACL (2.4.4.1, 2.4.5).
        guard size >= 4, size <= limit - start else { throw ProtocolError.unexpected("ACE size \(size)") }
        if type == accessAllowed || type == accessDenied {
            guard size >= 8 else { throw ProtocolError.unexpected("ACE size \(size)") }
            let mask = try r.u32()
            var inner = WireReader(try r.slice(offset: r.position, length: size - 8))
            let sid = try SID.decode(&inner)
            try r.seek(to: start + size)
            return ACE(type: type, flags: flags, body: .access(mask: mask, sid: sid))
        }
        return ACE(type: type, flags: flags, body: .opaque(try r.read(size - 4)))
    }

    func encode(into w: inout WireWriter) {
        w.u8(type)
        w.u8(flags)
        w.u16(UInt16(encodedSize))
        switch body {
        case .access(let mask, let sid):
            w.u32(mask)
            sid.encode(into: &w)
        case .opaque(let b):
            w.bytes(b)
        }
    }
}

/// An access control list (MS-DTYP 2.4.5).
public struct ACL: Equatable, Sendable {
    /// ACL_REVISION (2); ACL_REVISION_DS (4) when object ACEs are present.
    public var revision: UInt8
    public var aces: [ACE]

    public init(revision: UInt8 = 2, aces: [ACE]) {
        self.revision = revision
        self.aces = aces
    }

    var encodedSize: Int { 8 + aces.reduce(0) { $0 + $1.encodedSize } }

    static func decode(_ bytes: [UInt8], at offset: Int) throws -> ACL {
        var r = WireReader(bytes)
        try r.seek(to: offset)
        let revision = try r.u8()
        guard revision == 2 || revision == 4 else { throw ProtocolError.unexpected("ACL revision \(revision)") }
        try r.skip(1)
        let size = Int(try r.u16())
        let count = Int(try r.u16())
        try r.skip(2)
        guard size >= 8, size <= bytes.count - offset else { throw ProtocolError.badOffset(offset + size) }
        // Each ACE takes at least 4 bytes: a count the size cannot hold is refused up front.
        guard count <= (size - 8) / 4 else { throw ProtocolError.unexpected("ACL of \(size) bytes with \(count) ACEs") }
        var aces: [ACE] = []
        aces.reserveCapacity(count)
        for _ in 0..<count { aces.append(try ACE.decode(&r, limit: offset + size)) }
        return ACL(revision: revision, aces: aces)
    }

    func encode(into w: inout WireWriter) {
        w.u8(revision)
        w.u8(0)
        w.u16(UInt16(encodedSize))
        w.u16(UInt16(aces.count))
        w.u16(0)
        for a in aces { a.encode(into: &w) }
    }
}

/// SECURITY_INFORMATION bits of QUERY_INFO's and SET_INFO's AdditionalInformation
/// (MS-SMB2 2.2.37, 2.2.39).
public struct SecurityInformation: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let owner = SecurityInformation(rawValue: 0x1)
    public static let group = SecurityInformation(rawValue: 0x2)
    public static let dacl = SecurityInformation(rawValue: 0x4)
    public static let sacl = SecurityInformation(rawValue: 0x8)
}

/// A self-relative security descriptor (MS-DTYP 2.4.6).
public struct SecurityDescriptor: Equatable, Sendable {
    /// Control bits (2.4.6).
    public static let daclPresent: UInt16 = 0x0004
    public static let saclPresent: UInt16 = 0x0010
    public static let daclAutoInherited: UInt16 = 0x0400
    public static let daclProtected: UInt16 = 0x1000
    public static let selfRelative: UInt16 = 0x8000

    public var control: UInt16
    public var owner: SID?
    public var group: SID?
    public var sacl: ACL?
    /// nil: no DACL (every access allowed); empty: every access denied.
    public var dacl: ACL?

    public init(control: UInt16 = 0, owner: SID? = nil, group: SID? = nil, sacl: ACL? = nil, dacl: ACL? = nil) {
        self.control = control
        self.owner = owner
        self.group = group
        self.sacl = sacl
        self.dacl = dacl
    }

    /// Largest descriptor accepted: more than two ACLs (16-bit AclSize, 2.4.5), two SIDs and
    /// the header can take.
    public static let maxSize = 1 << 18

    public static func decode(_ b: [UInt8]) throws -> SecurityDescriptor {
        guard b.count <= maxSize else { throw ProtocolError.unexpected("security descriptor of \(b.count) bytes") }
        var r = WireReader(b)
        let revision = try r.u8()
        guard revision == 1 else { throw ProtocolError.unexpected("security descriptor revision \(revision)") }
        try r.skip(1)
        let given = try r.u16()
        let offsets = [try r.u32(), try r.u32(), try r.u32(), try r.u32()].map(Int.init)
        // Offsets are from the start; 0 means absent; none may point into the 20-byte header.
        for o in offsets where o != 0 && (o < 20 || o >= b.count) { throw ProtocolError.badOffset(o) }
        func sid(_ o: Int) throws -> SID? {
            guard o != 0 else { return nil }
            var s = WireReader(b, position: o)
            return try SID.decode(&s)
        }
        let sacl = given & saclPresent != 0 && offsets[2] != 0 ? try ACL.decode(b, at: offsets[2]) : nil
        let dacl = given & daclPresent != 0 && offsets[3] != 0 ? try ACL.decode(b, at: offsets[3]) : nil
        // The present bits as `encode` writes them: they say what was found.
        var control = given | selfRelative
        if sacl == nil { control &= ~saclPresent }
        if dacl == nil { control &= ~daclPresent }
        return SecurityDescriptor(control: control, owner: try sid(offsets[0]), group: try sid(offsets[1]),
                                  sacl: sacl, dacl: dacl)
    }

    /// Self-relative: header, owner, group, SACL, DACL, each offset from the start. The
    /// present bits follow what is there.
    public func encode() -> [UInt8] {
        var control = self.control | Self.selfRelative
        control = sacl == nil ? control & ~Self.saclPresent : control | Self.saclPresent
        control = dacl == nil ? control & ~Self.daclPresent : control | Self.daclPresent
        var w = WireWriter(capacity: 20 + (owner?.encodedSize ?? 0) + (group?.encodedSize ?? 0)
                                     + (sacl?.encodedSize ?? 0) + (dacl?.encodedSize ?? 0))
        var at = 20
        func next(_ size: Int?) -> UInt32 {
            guard let size else { return 0 }
            defer { at += size }
            return UInt32(at)
        }
        w.u8(1)
        w.u8(0)
        w.u16(control)
        w.u32(next(owner?.encodedSize))
        w.u32(next(group?.encodedSize))
        w.u32(next(sacl?.encodedSize))
        w.u32(next(dacl?.encodedSize))
        owner?.encode(into: &w)
        group?.encode(into: &w)
        sacl?.encode(into: &w)
        dacl?.encode(into: &w)
        return w.bytes
    }
}
