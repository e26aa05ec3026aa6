/// SMB2 commands (MS-SMB2 2.2.1.2).
public enum Command: UInt16, Sendable, CustomStringConvertible {
    case negotiate = 0x00, sessionSetup = 0x01, logoff = 0x02, treeConnect = 0x03
    case treeDisconnect = 0x04, create = 0x05, close = 0x06, flush = 0x07
    case read = 0x08, write = 0x09, lock = 0x0A, ioctl = 0x0B, cancel = 0x0C
    case echo = 0x0D, queryDirectory = 0x0E, changeNotify = 0x0F, queryInfo = 0x10
    case setInfo = 0x11, oplockBreak = 0x12

    public var description: String {
        switch self {
        case .negotiate: "NEGOTIATE"; case .sessionSetup: "SESSION_SETUP"; case .logoff: "LOGOFF"
        case .treeConnect: "TREE_CONNECT"; case .treeDisconnect: "TREE_DISCONNECT"
        case .create: "CREATE"; case .close: "CLOSE"; case .flush: "FLUSH"; case .read: "READ"
        case .write: "WRITE"; case .lock: "LOCK"; case .ioctl: "IOCTL"; case .cancel: "CANCEL"
        case .echo: "ECHO"; case .queryDirectory: "QUERY_DIRECTORY"; case .changeNotify: "CHANGE_NOTIFY"
        case .queryInfo: "QUERY_INFO"; case .setInfo: "SET_INFO"; case .oplockBreak: "OPLOCK_BREAK"
        }
    }
}

/// SMB2 header flags (MS-SMB2 2.2.1.2).
public struct HeaderFlags: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let serverToRedir = HeaderFlags(rawValue: 0x0000_0001)
    public static let asyncCommand = HeaderFlags(rawValue: 0x0000_0002)
    public static let relatedOperations = HeaderFlags(rawValue: 0x0000_0004)
    public static let signed = HeaderFlags(rawValue: 0x0000_0008)
    public static let dfsOperations = HeaderFlags(rawValue: 0x1000_0000)
    public static let replayOperation = HeaderFlags(rawValue: 0x2000_0000)
}

/// The 64-byte SMB2 packet header, sync or async form (MS-SMB2 2.2.1.1, 2.2.1.2).
public struct Header: Sendable, Equatable {
    public static let size = 64
    public static let protocolId: [UInt8] = [0xFE, 0x53, 0x4D, 0x42]   // 0xFE 'S' 'M' 'B'
    public static let signatureRange = 48..<64

    public var creditCharge: UInt16 = 0
    /// Status in responses; ChannelSequence/Reserved in requests (3.x).
    public var status: NTStatus = .success
    public var command: Command
    /// CreditRequest in requests, CreditResponse in responses.
    public var credits: UInt16 = 0
    public var flags: HeaderFlags = []
    public var nextCommand: UInt32 = 0
    public var messageId: UInt64 = 0
    /// Sync form: TreeId. Async form (flags has .asyncCommand): AsyncId.
    public var treeId: UInt32 = 0
    public var asyncId: UInt64 = 0
    public var sessionId: UInt64 = 0
    public var signature: [UInt8] = Array(repeating: 0, count: 16)

    public init(command: Command) { self.command = command }

    public func encode(into w: inout WireWriter) {
        w.bytes(Header.protocolId)
        w.u16(64)                       // StructureSize
        w.u16(creditCharge)
        w.u32(status.rawValue)
        w.u16(command.rawValue)
        w.u16(credits)
        w.u32(flags.rawValue)
        w.u32(nextCommand)
        w.u64(messageId)
        if flags.contains(.asyncCommand) {
            w.u64(asyncId)
        } else {
            w.u32(0)                    // Reserved (MS-SMB2 2.2.1.2)
            w.u32(treeId)
        }
        w.u64(sessionId)
        w.bytes(signature.count == 16 ? signature : Array(repeating: 0, count: 16))
    }

    public static func decode(_ bytes: [UInt8], at offset: Int = 0) throws -> Header {
        var r = WireReader(bytes, position: offset)
        guard try r.read(4) == Header.protocolId else { throw ProtocolError.badProtocolId }
        let structureSize = try r.u16()
        guard structureSize == 64 else { throw ProtocolError.badStructureSize(command: "header", got: structureSize) }
        let charge = try r.u16()
        let status = NTStatus(rawValue: try r.u32())
        let rawCommand = try r.u16()
        guard let command = Command(rawValue: rawCommand) else {
            throw ProtocolError.unexpected("unknown SMB2 command 0x\(String(rawCommand, radix: 16))")
        }
        var h = Header(command: command)
        h.creditCharge = charge
        h.status = status
        h.credits = try r.u16()
        h.flags = HeaderFlags(rawValue: try r.u32())
        h.nextCommand = try r.u32()
        h.messageId = try r.u64()
        if h.flags.contains(.asyncCommand) {
            h.asyncId = try r.u64()
        } else {
            try r.skip(4)
            h.treeId = try r.u32()
        }
        h.sessionId = try r.u64()
        h.signature = try r.read(16)
        return h
    }
}

/// The messages of one received frame: related or unrelated responses chained by NextCommand
/// (MS-SMB2 2.2.1, 3.2.5.1.9). Each link must be at least a header long, 8-byte aligned
/// (3.3.4.1.3) and inside the frame, so a frame of n bytes holds at most n / 64 messages and
/// the walk always ends.
public enum CompoundResponse {
    public static func split(_ frame: [UInt8]) throws -> [(header: Header, range: Range<Int>)] {
        var out: [(header: Header, range: Range<Int>)] = []
        var offset = 0
        while true {
            let header = try Header.decode(frame, at: offset)
            let next = Int(header.nextCommand)
            guard next != 0 else {
                out.append((header, offset..<frame.count))
                return out
            }
            guard next >= Header.size, next % 8 == 0, next <= frame.count - offset else {
                throw ProtocolError.unexpected("bad NextCommand \(next)")
            }
            out.append((header, offset..<offset + next))
            offset += next
        }
    }
}
