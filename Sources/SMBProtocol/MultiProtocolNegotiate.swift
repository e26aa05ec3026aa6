/// The SMB1-format NEGOTIATE of MS-SMB2 3.2.4.2.1 ("multi-protocol negotiate"), offering only
/// the SMB2 dialect strings "SMB 2.002" and "SMB 2.???": no SMB1 dialect is offered. A server
/// that speaks SMB2 answers with an SMB2 NEGOTIATE response (MS-SMB2 3.3.5.3.1); one that only
/// speaks SMB1 answers in SMB1 (ProtocolId 0xFF 'S' 'M' 'B'), with no dialect chosen. smb3fs
/// sends it only to explain a server that closed the connection on an SMB2 NEGOTIATE.
public enum MultiProtocolNegotiate {
    public static let smb1ProtocolId: [UInt8] = [0xFF, 0x53, 0x4D, 0x42]

    /// The message (without the Direct TCP header): the 32-byte SMB header (MS-CIFS 2.2.3.1)
    /// with SMB_COM_NEGOTIATE, then WordCount 0 and the dialect strings (2.2.4.52.1).
    public static func request() -> [UInt8] {
        var w = WireWriter(capacity: 64)
        w.bytes(smb1ProtocolId)
        w.u8(0x72)                                   // SMB_COM_NEGOTIATE
        w.u32(0)                                     // Status
        w.u8(0x18)                                   // Flags: case-insensitive paths, canonical names
        w.u16(0xC801)                                // Flags2: Unicode, NT status, extended security, long names
        w.zeros(12)                                  // PIDHigh, SecurityFeatures, Reserved
        w.u16(0xFFFF)                                // TID
        w.u16(0xFEFF)                                // PIDLow
        w.u16(0)                                     // UID
        w.u16(0)                                     // MID
        var dialects: [UInt8] = []
        for d in ["SMB 2.002", "SMB 2.???"] { dialects += [0x02] + Array(d.utf8) + [0] }
        w.u8(0)                                      // WordCount
        w.u16(UInt16(dialects.count))                // ByteCount
        w.bytes(dialects)
        return w.bytes
    }

    /// True when `message` is an SMB1 message (the server speaks SMB1 only).
    public static func isSMB1(_ message: [UInt8]) -> Bool { message.starts(with: smb1ProtocolId) }
}
