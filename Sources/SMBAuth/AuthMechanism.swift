/// A security mechanism run inside SPNEGO (seam for Kerberos later).
public protocol AuthMechanism: Sendable {
    /// First call with nil (or with the server's NEGOTIATE-response security blob, which may be empty);
    /// returns the token for the next SESSION_SETUP request.
    mutating func nextToken(serverToken: [UInt8]?) throws -> [UInt8]
    var isComplete: Bool { get }
    /// Available once complete.
    var sessionKey: [UInt8]? { get }
}
