/// The requests whose body is only StructureSize 4 and Reserved: ECHO (MS-SMB2 2.2.28),
/// LOGOFF (2.2.7), TREE_DISCONNECT (2.2.11); their responses have the same shape.
public enum SimpleRequest {
    public static func encodeBody() -> [UInt8] { [4, 0, 0, 0] }

    public static func decodeResponse(message m: [UInt8], command: Command) throws {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 4 else { throw ProtocolError.badStructureSize(command: command.description, got: ss) }
    }
}

/// ERROR response (MS-SMB2 2.2.2). Only its shape is checked; error contexts are not used yet.
public struct ErrorResponse: Sendable {
    public var errorData: [UInt8]

    public static func decode(message m: [UInt8]) throws -> ErrorResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 9 else { throw ProtocolError.badStructureSize(command: "ERROR", got: ss) }
        try r.skip(2)
        let count = Int(try r.u32())
        return ErrorResponse(errorData: try r.read(min(count, r.remaining)))
    }
}
