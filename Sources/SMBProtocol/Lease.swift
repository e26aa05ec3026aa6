/// SMB2_LEASE_* caching states (MS-SMB2 2.2.13.2.8).
public struct LeaseState: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readCaching = LeaseState(rawValue: 0x01)
    public static let handleCaching = LeaseState(rawValue: 0x02)
    public static let writeCaching = LeaseState(rawValue: 0x04)

    public var description: String {
        (contains(.readCaching) ? "R" : "") + (contains(.handleCaching) ? "H" : "") + (contains(.writeCaching) ? "W" : "")
    }
}

/// RequestedOplockLevel / OplockLevel values (MS-SMB2 2.2.13).
public enum OplockLevel {
    public static let none: UInt8 = 0x00
    public static let batch: UInt8 = 0x09
    /// SMB2_OPLOCK_LEVEL_LEASE: the lease create context says what is wanted.
    public static let lease: UInt8 = 0xFF
}

/// SMB2_CREATE_REQUEST_LEASE_V2 "RqLs" (MS-SMB2 2.2.13.2.10, dialect 3.x) and its response
/// SMB2_CREATE_RESPONSE_LEASE_V2 (2.2.14.2.11), 52 bytes each. Version 1 (2.2.13.2.8, 32 bytes)
/// is what a 2.1 server answers with; both start with LeaseKey and LeaseState.
public struct LeaseContext: Sendable, Equatable {
    public static let name = Array("RqLs".utf8)
    public static let sizeV2 = 52
    public static let sizeV1 = 32

    public var key: [UInt8]
    public var state: LeaseState
    public var epoch: UInt16

    public init(key: [UInt8], state: LeaseState, epoch: UInt16 = 0) {
        self.key = key
        self.state = state
        self.epoch = epoch
    }

    public func encodeV2() -> CreateContext {
        var w = WireWriter(capacity: Self.sizeV2)
        w.bytes(key.count == 16 ? key : Array(repeating: 0, count: 16))
        w.u32(state.rawValue)
        w.u32(0)                 // Flags: no parent lease key
        w.u64(0)                 // LeaseDuration
        w.zeros(16)              // ParentLeaseKey
        w.u16(epoch)
        w.u16(0)                 // Reserved
        return CreateContext(name: Self.name, data: w.bytes)
    }

    public static func decode(_ data: [UInt8]) throws -> LeaseContext {
        guard data.count == sizeV2 || data.count == sizeV1 else {
            throw ProtocolError.unexpected("lease create context of \(data.count) bytes")
        }
        var r = WireReader(data)
        let key = try r.read(16)
        let state = LeaseState(rawValue: try r.u32())
        var epoch: UInt16 = 0
        if data.count == sizeV2 {
            try r.skip(4 + 8 + 16)
            epoch = try r.u16()
        }
        return LeaseContext(key: key, state: state, epoch: epoch)
    }
}

/// Lease Break Notification (MS-SMB2 2.2.23.2): an OPLOCK_BREAK from the server with
/// MessageId 0xFFFFFFFFFFFFFFFF and StructureSize 44.
public struct LeaseBreakNotification: Sendable, Equatable {
    public static let ackRequired: UInt32 = 0x01     // SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED

    public var newEpoch: UInt16
    public var flags: UInt32
    public var leaseKey: [UInt8]
    public var currentState: LeaseState
    public var newState: LeaseState

    public var needsAcknowledgment: Bool { flags & Self.ackRequired != 0 }

    public static func decode(message: [UInt8]) throws -> LeaseBreakNotification {
        var r = WireReader(message, position: Header.size)
        let ss = try r.u16()
        guard ss == 44 else { throw ProtocolError.badStructureSize(command: "LEASE_BREAK", got: ss) }
        let epoch = try r.u16()
        let flags = try r.u32()
        let key = try r.read(16)
        let current = LeaseState(rawValue: try r.u32())
        let new = LeaseState(rawValue: try r.u32())
        try r.skip(12)            // BreakReason, AccessMaskHint, ShareMaskHint
        return LeaseBreakNotification(newEpoch: epoch, flags: flags, leaseKey: key,
                                      currentState: current, newState: new)
    }

    /// The StructureSize of an OPLOCK_BREAK body tells an oplock break (24) from a lease break (44).
    public static func isLeaseBreak(message: [UInt8]) -> Bool {
        var r = WireReader(message, position: Header.size)
        return (try? r.u16()) == 44
    }
}

/// Lease Break Acknowledgment (MS-SMB2 2.2.24.2); the Lease Break Response (2.2.25.2) has the
/// same 36-byte layout.
public struct LeaseBreakAcknowledgment: Sendable, Equatable {
    public var leaseKey: [UInt8]
    public var state: LeaseState

    public init(leaseKey: [UInt8], state: LeaseState) {
        self.leaseKey = leaseKey
        self.state = state
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 36)
        w.u16(36)
        w.u16(0)                 // Reserved
        w.u32(0)                 // Flags
        w.bytes(leaseKey.count == 16 ? leaseKey : Array(repeating: 0, count: 16))
        w.u32(state.rawValue)
        w.u64(0)                 // LeaseDuration
        return w.bytes
    }

    public static func decodeResponse(message: [UInt8]) throws -> LeaseBreakAcknowledgment {
        var r = WireReader(message, position: Header.size)
        let ss = try r.u16()
        guard ss == 36 else { throw ProtocolError.badStructureSize(command: "LEASE_BREAK_ACK", got: ss) }
        try r.skip(6)
        let key = try r.read(16)
        let state = LeaseState(rawValue: try r.u32())
        try r.skip(8)             // LeaseDuration
        return LeaseBreakAcknowledgment(leaseKey: key, state: state)
    }
}
