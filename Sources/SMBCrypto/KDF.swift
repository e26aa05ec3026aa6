/// Key derivation.
public enum KDF {
    /// SP800-108 KDF in counter mode with HMAC-SHA256 as PRF, r = 32, as MS-SMB2 3.1.4.2 uses it:
    /// output = first L/8 bytes of HMAC-SHA256(key, i || Label || 0x00 || Context || L),
    /// with i = 1 and L = `outputBits`, both 32-bit big-endian. One PRF block covers L = 128 and 256.
    /// `label` and `context` are passed exactly as MS-SMB2 lists them (e.g. "SMB2AESCMAC\0").
    public static func smb3(key: [UInt8], label: [UInt8], context: [UInt8], outputBits: Int = 128) -> [UInt8] {
        // Only 128 and 256 are used by MS-SMB2; clamp to what one HMAC-SHA256 block gives.
        let bits = min(max(outputBits, 8), 256) & ~7
        var input: [UInt8] = [0, 0, 0, 1]
        input += label
        input.append(0)
        input += context
        let l = UInt32(bits)
        input += [UInt8(truncatingIfNeeded: l >> 24), UInt8(truncatingIfNeeded: l >> 16),
                  UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l)]
        return Array(MAC.hmacSHA256(key: key, data: input).prefix(bits / 8))
    }
}
