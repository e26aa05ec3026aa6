/// SMB2_LOCK_ELEMENT Flags (MS-SMB2 2.2.26.1).
public struct LockFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let sharedLock = LockFlags(rawValue: 0x0000_0001)      // SMB2_LOCKFLAG_SHARED_LOCK
    public static let exclusiveLock = LockFlags(rawValue: 0x0000_0002)   // SMB2_LOCKFLAG_EXCLUSIVE_LOCK
    public static let unlock = LockFlags(rawValue: 0x0000_0004)          // SMB2_LOCKFLAG_UNLOCK
    public static let failImmediately = LockFlags(rawValue: 0x0000_0010) // SMB2_LOCKFLAG_FAIL_IMMEDIATELY

    /// The only combinations 2.2.26.1 allows.
    public static let validCombinations: Set<LockFlags> = [
        .sharedLock, .exclusiveLock, [.sharedLock, .failImmediately], [.exclusiveLock, .failImmediately], .unlock,
    ]
}

/// SMB2_LOCK_ELEMENT (MS-SMB2 2.2.26.1): 24 bytes.
public struct LockElement: Sendable, Hashable {
    public static let size = 24

    public var offset: UInt64
    public var length: UInt64
    public var flags: LockFlags

    public init(offset: UInt64, length: UInt64, flags: LockFlags) {
        self.offset = offset
        self.length = length
        self.flags = flags
    }

    func encode(into w: inout WireWriter) {
        w.u64(offset)
        w.u64(length)
        w.u32(flags.rawValue)
        w.u32(0)                                   // Reserved
    }
}

/// LOCK request (MS-SMB2 2.2.26).
public struct LockRequest: Sendable {
    /// LockSequenceIndex is 1...64 when lock sequence verification is used; 0 means "not used"
    /// (MS-SMB2 3.3.5.14: Open.LockSequenceArray has 64 entries, index 0 is reserved).
    public static let maxLockSequenceIndex: UInt32 = 64
    /// LockSequenceNumber is 4 bits (MS-SMB2 2.2.26).
    public static let maxLockSequenceNumber: UInt8 = 15
    /// This client never sends more elements than this in one request. The spec only bounds
    /// LockCount by its 16-bit field; a POSIX lock maps to one element.
    public static let maxLockCount = 64

    public var fileId: FileId
    public var locks: [LockElement]
    /// LockSequenceNumber (low 4 bits of the 32-bit field). Must be 0 for dialect 2.0.2,
    /// where the whole field is Reserved.
    public var lockSequenceNumber: UInt8 = 0
    /// LockSequenceIndex (high 28 bits). Must be 0 for dialect 2.0.2.
    public var lockSequenceIndex: UInt32 = 0

    public init(fileId: FileId, locks: [LockElement]) {
        self.fileId = fileId
        self.locks = locks
    }

    /// Checks the element list against MS-SMB2 2.2.26.1 (valid flag combinations) and the
    /// server's rules in 3.3.5.14.2 (a request either only unlocks or only locks; a request with
    /// more than one lock element must not contain a blocking lock), so that a list a server
    /// would reject with STATUS_INVALID_PARAMETER never reaches the wire.
    public func validate() throws {
        guard !locks.isEmpty else { throw EncodingError("LOCK: LockCount must be at least 1 (2.2.26)") }
        guard locks.count <= Self.maxLockCount else { throw EncodingError("LOCK: more than \(Self.maxLockCount) elements") }
        guard lockSequenceNumber <= Self.maxLockSequenceNumber else { throw EncodingError("LOCK: LockSequenceNumber is 4 bits") }
        guard lockSequenceIndex <= Self.maxLockSequenceIndex else { throw EncodingError("LOCK: LockSequenceIndex above 64") }
        for l in locks {
            guard LockFlags.validCombinations.contains(l.flags) else {
                throw EncodingError("LOCK: invalid flag combination 0x\(String(l.flags.rawValue, radix: 16))")
            }
        }
        let unlocking = locks[0].flags == .unlock
        for l in locks where (l.flags == .unlock) != unlocking {
            throw EncodingError("LOCK: a request either unlocks or locks, never both (3.3.5.14.2)")
        }
        if locks.count > 1 && !unlocking {
            for l in locks where !l.flags.contains(.failImmediately) {
                throw EncodingError("LOCK: a blocking lock must be the only element (3.3.5.14.2)")
            }
        }
    }

    public func encodeBody() throws -> [UInt8] {
        try validate()
        var w = WireWriter(capacity: 24 + LockElement.size * locks.count)
        w.u16(48)                                  // StructureSize: 48 whatever LockCount is
        w.u16(UInt16(locks.count))                 // LockCount
        w.u32(UInt32(lockSequenceNumber & 0x0F) | lockSequenceIndex << 4)
        fileId.encode(into: &w)
        for l in locks { l.encode(into: &w) }
        return w.bytes
    }
}

/// LOCK response (MS-SMB2 2.2.27): StructureSize 4, Reserved.
public enum LockResponse {
    public static func decode(message m: [UInt8], at offset: Int = Header.size) throws {
        var r = WireReader(m, position: offset)
        let ss = try r.u16()
        guard ss == 4 else { throw ProtocolError.badStructureSize(command: "LOCK", got: ss) }
        try r.skip(2)
    }
}
