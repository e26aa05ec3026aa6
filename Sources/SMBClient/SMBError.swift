import SMBProtocol

/// Everything that can go wrong below the filesystem layer. SMBFS maps these to errno in one table.
public enum SMBError: Error, Sendable, CustomStringConvertible {
    /// The server answered a request with an error status.
    case status(NTStatus, Command)
    /// The server sent something that does not decode.
    case malformed(String)
    /// A response failed signature verification or arrived unsigned on a signed session.
    case signatureInvalid(Command, UInt64)
    /// A response arrived in clear on an encrypted session (MS-SMB2 3.2.5.1.1.1).
    case notEncrypted(Command, UInt64)
    /// An encrypted message did not decrypt; every request waiting on that connection fails.
    case decryptionFailed(String)
    /// The server answered in SMB1, which this client never speaks.
    case smb1Response
    case connectFailed(String)
    case connectionClosed(String)
    /// An open could not be reclaimed after a reconnect; only that file handle is affected.
    case openLost(String)
    case frameTooLarge(length: Int, limit: Int)
    case timeout(Command)
    case authentication(String)
    /// `sec=krb5` and the credential cache holds no valid ticket (none, or expired); names the service.
    case noTicket(String)
    case securityPolicy(String)
    case unsupported(String)
    /// A remote procedure call over a named pipe failed: a FAULT, or a Win32 error it returned.
    case remoteCall(String)

    public var description: String {
        switch self {
        case .status(let s, let c): return "\(c) failed: \(s)"
        case .malformed(let s): return "malformed response: \(s)"
        case .signatureInvalid(let c, let m): return "\(c) response (message \(m)) has a missing or invalid signature; rejected"
        case .notEncrypted(let c, let m): return "\(c) response (message \(m)) arrived unencrypted on an encrypted session; rejected"
        case .decryptionFailed(let s): return "encrypted response rejected: \(s)"
        case .smb1Response: return "server only offers SMB1, which smb3fs does not speak"
        case .connectFailed(let s): return s
        case .connectionClosed(let s): return "connection closed: \(s)"
        case .openLost(let s): return s
        case .frameTooLarge(let l, let lim): return "server sent a \(l)-byte frame, more than the \(lim)-byte limit; connection closed"
        case .timeout(let c): return "\(c) timed out"
        case .authentication(let s): return s
        case .noTicket(let spn): return "no Kerberos ticket for \(spn) (run kinit)"
        case .securityPolicy(let s): return s
        case .unsupported(let s): return s
        case .remoteCall(let s): return s
        }
    }

    /// The NTSTATUS, when the server answered with one.
    public var ntStatus: NTStatus? {
        if case .status(let s, _) = self { return s }
        return nil
    }
}
