/// Errors raised by SMBCrypto.
public enum CryptoError: Error, Equatable {
    /// OpenSSL reported a failure; the string names the call and the error queue text.
    case openssl(String)
    /// A key had a length the algorithm cannot use.
    case invalidKeyLength(Int)
    /// An argument other than the key was unusable (nonce length, message length...).
    case invalidInput(String)
    /// Authenticated decryption failed: the tag does not match the data (tampered or wrong key).
    case authenticationFailed
}
