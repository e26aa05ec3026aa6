/// Errors raised by SMBAuth.
public enum AuthError: Error, Equatable {
    /// A token from the server did not parse (truncated, bad offsets, wrong type...).
    case malformed(String)
    /// The server asked for something this client does not do.
    case unsupported(String)
    /// The server rejected the authentication (SPNEGO negState reject).
    case logonFailure
    /// An integrity check failed (mechListMIC).
    case integrity(String)
}
