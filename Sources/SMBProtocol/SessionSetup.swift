/// SESSION_SETUP request (MS-SMB2 2.2.5).
public struct SessionSetupRequest: Sendable {
    public var securityMode: SecurityMode
    public var capabilities: Capabilities
    public var previousSessionId: UInt64
    public var securityBuffer: [UInt8]
    /// SMB2_SESSION_FLAG_BINDING (0x01) for binding a channel (3.x multichannel).
    public var flags: UInt8
    public static let binding: UInt8 = 0x01

    public init(securityMode: SecurityMode, capabilities: Capabilities, securityBuffer: [UInt8],
                previousSessionId: UInt64 = 0, flags: UInt8 = 0) {
        self.securityMode = securityMode
        self.capabilities = capabilities
        self.securityBuffer = securityBuffer
        self.previousSessionId = previousSessionId
        self.flags = flags
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 24 + securityBuffer.count)
        w.u16(25)                                  // StructureSize
        w.u8(flags)
        w.u8(UInt8(truncatingIfNeeded: securityMode.rawValue))
        w.u32(capabilities.rawValue & Capabilities.dfs.rawValue)  // only DFS is meaningful here
        w.u32(0)                                   // Channel
        w.u16(UInt16(Header.size + 24))            // SecurityBufferOffset
        w.u16(UInt16(securityBuffer.count))
        w.u64(previousSessionId)
        w.bytes(securityBuffer)
        return w.bytes
    }
}

/// SessionFlags of the SESSION_SETUP response (MS-SMB2 2.2.6).
public struct SessionFlags: OptionSet, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let isGuest = SessionFlags(rawValue: 0x1)
    public static let isNull = SessionFlags(rawValue: 0x2)
    public static let encryptData = SessionFlags(rawValue: 0x4)
}

/// SESSION_SETUP response (MS-SMB2 2.2.6).
public struct SessionSetupResponse: Sendable {
    public var sessionFlags: SessionFlags
    public var securityBuffer: [UInt8]

    public static func decode(message m: [UInt8]) throws -> SessionSetupResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 9 else { throw ProtocolError.badStructureSize(command: "SESSION_SETUP", got: ss) }
        let flags = SessionFlags(rawValue: try r.u16())
        let off = Int(try r.u16())
        let len = Int(try r.u16())
        let buf = len == 0 ? [] : try r.slice(offset: off, length: len)
        return SessionSetupResponse(sessionFlags: flags, securityBuffer: buf)
    }
}
