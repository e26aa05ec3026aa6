/// Direct TCP transport framing (MS-SMB2 2.1): each message is preceded by a zero byte and a
/// 24-bit big-endian length.
public enum DirectTCP {
    public static let headerSize = 4
    /// The largest length the 24-bit field can express.
    public static let maxFrameLength = 0x00FF_FFFF

    public static func frameHeader(length: Int) -> [UInt8] {
        [0, UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
    }

    /// The length of the frame whose 4-byte header is given, or an error if the first byte is not zero.
    public static func frameLength(_ h0: UInt8, _ h1: UInt8, _ h2: UInt8, _ h3: UInt8) throws -> Int {
        guard h0 == 0 else { throw ProtocolError.unexpected("Direct TCP frame with first byte 0x\(String(h0, radix: 16))") }
        return Int(h1) << 16 | Int(h2) << 8 | Int(h3)
    }
}
