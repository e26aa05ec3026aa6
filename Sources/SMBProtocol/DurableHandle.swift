/// SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 "DH2Q" (MS-SMB2 2.2.13.2.11): asks for an open that
/// survives a lost connection, named by CreateGuid for replay and reconnect (3.2.4.3.3).
public struct DurableHandleRequestV2: Sendable, Equatable {
    public static let name = Array("DH2Q".utf8)
    /// SMB2_DHANDLE_FLAG_PERSISTENT.
    public static let persistent: UInt32 = 0x02

    /// Milliseconds the server keeps the open after a disconnect; 0 lets the server choose.
    public var timeout: UInt32
    public var flags: UInt32
    public var createGuid: [UInt8]

    public init(timeout: UInt32 = 0, flags: UInt32 = 0, createGuid: [UInt8]) {
        self.timeout = timeout
        self.flags = flags
        self.createGuid = createGuid
    }

    public func encode() -> CreateContext {
        var w = WireWriter(capacity: 32)
        w.u32(timeout)
        w.u32(flags)
        w.u64(0)                 // Reserved
        w.bytes(createGuid.count == 16 ? createGuid : Array(repeating: 0, count: 16))
        return CreateContext(name: Self.name, data: w.bytes)
    }
}

/// SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2 (MS-SMB2 2.2.14.2.12): the open is durable.
public struct DurableHandleResponseV2: Sendable, Equatable {
    public var timeout: UInt32
    public var flags: UInt32

    public static func decode(_ data: [UInt8]) throws -> DurableHandleResponseV2 {
        guard data.count == 8 else { throw ProtocolError.unexpected("DH2Q response of \(data.count) bytes") }
        var r = WireReader(data)
        return DurableHandleResponseV2(timeout: try r.u32(), flags: try r.u32())
    }
}

/// SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 "DH2C" (MS-SMB2 2.2.13.2.12): reclaims a durable
/// open on a new connection (3.2.4.4): the old FileId, the same CreateGuid and flags.
public struct DurableHandleReconnectV2: Sendable, Equatable {
    public static let name = Array("DH2C".utf8)

    public var fileId: FileId
    public var createGuid: [UInt8]
    public var flags: UInt32

    public init(fileId: FileId, createGuid: [UInt8], flags: UInt32 = 0) {
        self.fileId = fileId
        self.createGuid = createGuid
        self.flags = flags
    }

    public func encode() -> CreateContext {
        var w = WireWriter(capacity: 36)
        fileId.encode(into: &w)
        w.bytes(createGuid.count == 16 ? createGuid : Array(repeating: 0, count: 16))
        w.u32(flags)
        return CreateContext(name: Self.name, data: w.bytes)
    }
}
