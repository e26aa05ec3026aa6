import COpenSSL

/// Shared helpers around libcrypto (see TOOLCHAIN-NOTES.md section 3).
enum OpenSSL {
    /// Drains the thread's OpenSSL error queue into a CryptoError.
    static func error(_ call: String) -> CryptoError {
        var text = ""
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let message = buffer.withUnsafeBufferPointer { ptr -> String in
                let bytes = ptr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
                return String(decoding: bytes, as: UTF8.self)
            }
            text += text.isEmpty ? message : "; " + message
        }
        return .openssl(text.isEmpty ? call : "\(call): \(text)")
    }
}

/// The process's use of libcrypto.
public enum CryptoLibrary {
    /// Called first thing in main: libcrypto is never torn down by its own atexit handler.
    /// `exit` runs that handler on the exiting thread while others may still be in the middle
    /// of a digest or cipher (a reconnect under way when a mount fails or ends), which then
    /// crash on the freed library context. What libcrypto holds goes with the process.
    public static func keepUntilExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
