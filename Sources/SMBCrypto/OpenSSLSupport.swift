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
