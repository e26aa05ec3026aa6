/// Errors decoding what a peer sent. Every decoder throws one of these instead of trapping.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case badOffset(Int)
    case badStructureSize(command: String, got: UInt16)
    case badProtocolId
    case invalidString
    case unexpected(String)

    public var description: String {
        switch self {
        case .truncated(let n, let a): return "message truncated (needed \(n) bytes, \(a) left)"
        case .badOffset(let o): return "offset or length \(o) outside the message"
        case .badStructureSize(let c, let g): return "\(c): unexpected StructureSize \(g)"
        case .badProtocolId: return "not an SMB2 message"
        case .invalidString: return "invalid UTF-16 string"
        case .unexpected(let s): return s
        }
    }
}
