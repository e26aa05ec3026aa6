import CGSSAPI

/// A failed GSSAPI call (RFC 2743): its major status and the texts of both statuses.
public struct GSSError: Error, Equatable, CustomStringConvertible {
    public let major: UInt32
    public let minor: UInt32
    public let text: String

    /// No usable credential: no ticket in the cache, or only an expired one.
    public var isMissingTicket: Bool {
        let routine = major & 0x00ff_0000
        // GSS_S_NO_CRED, GSS_S_CREDENTIALS_EXPIRED, or the KDC's KRB5KRB_AP_ERR_TKT_EXPIRED
        // (error table base -1765328384 + 32) for a TGT that ran out.
        return routine == 7 << 16 || routine == 11 << 16 || minor == 0x96C7_3A20
    }

    public var description: String { text }
}

/// Thin owners of MIT krb5 GSSAPI handles. Each frees its handle when released; none is shared
/// between threads while in use (one SESSION_SETUP exchange owns its context).
enum GSS {
    /// RFC 2743 1.2.1.1: the routine-error and calling-error bits.
    static func failed(_ major: OM_uint32) -> Bool { major & 0xffff_0000 != 0 }

    static let continueNeeded: OM_uint32 = 1         // GSS_S_CONTINUE_NEEDED, a supplementary bit
    static let initiate: gss_cred_usage_t = 1        // GSS_C_INITIATE
    static let indefinite: OM_uint32 = 0xffff_ffff   // GSS_C_INDEFINITE

    /// The texts of a major and a minor status (gss_display_status, RFC 2743 2.4.1).
    static func error(_ major: OM_uint32, _ minor: OM_uint32, _ call: String) -> GSSError {
        var parts = [statusText(major, type: 1)]         // GSS_C_GSS_CODE
        if minor != 0 { parts.append(statusText(minor, type: 2, mech: smb3fs_gss_mech_krb5())) }   // GSS_C_MECH_CODE
        let text = parts.filter { !$0.isEmpty }.joined(separator: ": ")
        return GSSError(major: major, minor: minor, text: text.isEmpty ? "\(call) failed (0x\(String(major, radix: 16)))" : text)
    }

    private static func statusText(_ status: OM_uint32, type: Int32, mech: gss_OID? = nil) -> String {
        var lines: [String] = []
        var context: OM_uint32 = 0
        repeat {
            var minor: OM_uint32 = 0
            var buffer = gss_buffer_desc(length: 0, value: nil)
            let major = gss_display_status(&minor, status, type, mech, &context, &buffer)
            defer { gss_release_buffer(&minor, &buffer) }
            guard !failed(major) else { break }
            var bytes = bufferBytes(buffer)
            while bytes.last == 0 { bytes.removeLast() }   // SPNEGO counts a trailing NUL
            lines.append(String(decoding: bytes, as: UTF8.self))
        } while context != 0 && lines.count < 8
        return lines.joined(separator: "; ")
    }

    static func bufferBytes(_ buffer: gss_buffer_desc) -> [UInt8] {
        guard let value = buffer.value, buffer.length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: value, count: buffer.length))
    }

    /// Calls `body` with a gss_buffer_desc over `bytes` (not copied; valid during the call).
    static func withBuffer<T>(_ bytes: [UInt8], _ body: (inout gss_buffer_desc) throws -> T) rethrows -> T {
        var copy = bytes
        return try copy.withUnsafeMutableBytes { raw in
            var buffer = gss_buffer_desc(length: raw.count, value: raw.baseAddress)
            return try body(&buffer)
        }
    }

    /// An imported name (gss_import_name).
    final class Name: @unchecked Sendable {
        let handle: gss_name_t

        /// A host-based service name ("cifs@host", RFC 2743 4.1), or a Kerberos principal
        /// ("cifs/host@REALM", RFC 1964 2.1.1) when it has a slash.
        init(_ text: String) throws {
            let type = text.contains("/") ? smb3fs_gss_krb5_nt_principal_name() : smb3fs_gss_nt_hostbased_service()
            var minor: OM_uint32 = 0
            var name: gss_name_t?
            let major = GSS.withBuffer(Array(text.utf8)) { gss_import_name(&minor, &$0, type, &name) }
            guard !GSS.failed(major), let name else { throw GSS.error(major, minor, "gss_import_name") }
            handle = name
        }

        deinit {
            var minor: OM_uint32 = 0
            var h: gss_name_t? = handle
            gss_release_name(&minor, &h)
        }
    }

    /// An initiator credential from a credential cache (gss_acquire_cred_from with a "ccache"
    /// store, or the default cache: KRB5CCNAME, then krb5.conf), for the krb5 mechanism only.
    final class Credential: @unchecked Sendable {
        let handle: gss_cred_id_t
        /// Seconds the credential stays valid (its TGT's lifetime).
        let lifetime: UInt32
        /// The principal the ticket is for, e.g. "alice@EXAMPLE.COM".
        let principal: String

        init(cache: String?) throws {
            var minor: OM_uint32 = 0
            var cred: gss_cred_id_t?
            var lifetime: OM_uint32 = 0
            let major: OM_uint32
            if let cache {
                major = "ccache".withCString { key in
                    cache.withCString { value in
                        var element = gss_key_value_element_desc(key: key, value: value)
                        return withUnsafeMutablePointer(to: &element) { e in
                            var store = gss_key_value_set_desc(count: 1, elements: e)
                            return gss_acquire_cred_from(&minor, nil, GSS.indefinite, smb3fs_gss_mech_set_krb5(),
                                                         GSS.initiate, &store, &cred, nil, &lifetime)
                        }
                    }
                }
            } else {
                major = gss_acquire_cred(&minor, nil, GSS.indefinite, smb3fs_gss_mech_set_krb5(), GSS.initiate,
                                         &cred, nil, &lifetime)
            }
            guard !GSS.failed(major), let cred else { throw GSS.error(major, minor, "gss_acquire_cred") }
            handle = cred
            self.lifetime = lifetime
            var name: gss_name_t?
            var text = gss_buffer_desc(length: 0, value: nil)
            if !GSS.failed(gss_inquire_cred(&minor, cred, &name, nil, nil, nil)), let name {
                _ = gss_display_name(&minor, name, &text, nil)
                var n: gss_name_t? = name
                gss_release_name(&minor, &n)
            }
            principal = String(decoding: GSS.bufferBytes(text), as: UTF8.self)
            gss_release_buffer(&minor, &text)
            guard lifetime > 0 else {
                throw GSSError(major: 11 << 16, minor: 0, text: "the ticket of \(principal) has expired")
            }
        }

        deinit {
            var minor: OM_uint32 = 0
            var h: gss_cred_id_t? = handle
            gss_release_cred(&minor, &h)
        }
    }

    /// A security context being established as initiator (gss_init_sec_context, RFC 2743 2.2.1).
    final class InitiatorContext: @unchecked Sendable {
        private var handle: gss_ctx_id_t?
        private let target: Name
        private let credential: Credential
        private let flags: OM_uint32
        private(set) var isComplete = false

        init(target: Name, credential: Credential, flags: OM_uint32) {
            self.target = target
            self.credential = credential
            self.flags = flags
        }

        /// One step: the next token to send (possibly empty). Fails unless the mechanism
        /// granted every flag asked for (mutual authentication among them).
        func step(_ input: [UInt8]?) throws -> [UInt8] {
            var minor: OM_uint32 = 0
            var output = gss_buffer_desc(length: 0, value: nil)
            var granted: OM_uint32 = 0
            defer { var m: OM_uint32 = 0; gss_release_buffer(&m, &output) }
            let major = GSS.withBuffer(input ?? []) { inputBuffer in
                withUnsafeMutablePointer(to: &inputBuffer) { token in
                    gss_init_sec_context(&minor, credential.handle, &handle, target.handle, smb3fs_gss_mech_krb5(), flags,
                                         0, nil, input == nil ? nil : token, nil, &output, &granted, nil)
                }
            }
            guard !GSS.failed(major) else { throw GSS.error(major, minor, "gss_init_sec_context") }
            if major & GSS.continueNeeded == 0 {
                guard granted & flags == flags else {
                    throw GSSError(major: 0, minor: 0, text: "the server did not authenticate itself (mutual authentication)")
                }
                isComplete = true
            }
            return GSS.bufferBytes(output)
        }

        /// The context's session key (GSS_C_INQ_SSPI_SESSION_KEY, the key MS-SMB2 3.2.5.3.1 takes).
        func sessionKey() throws -> [UInt8] {
            var minor: OM_uint32 = 0
            var set: gss_buffer_set_t?
            let major = gss_inquire_sec_context_by_oid(&minor, handle, smb3fs_gss_inq_sspi_session_key(), &set)
            defer { gss_release_buffer_set(&minor, &set) }
            guard !GSS.failed(major), let set, set.pointee.count > 0, let first = set.pointee.elements else {
                throw GSS.error(major, minor, "gss_inquire_sec_context_by_oid")
            }
            return GSS.bufferBytes(first.pointee)
        }

        /// GSS_GetMIC (RFC 2743 2.3.1).
        func mic(_ message: [UInt8]) throws -> [UInt8] {
            var minor: OM_uint32 = 0
            var token = gss_buffer_desc(length: 0, value: nil)
            defer { var m: OM_uint32 = 0; gss_release_buffer(&m, &token) }
            let major = GSS.withBuffer(message) { gss_get_mic(&minor, handle, 0, &$0, &token) }
            guard !GSS.failed(major) else { throw GSS.error(major, minor, "gss_get_mic") }
            return GSS.bufferBytes(token)
        }

        /// GSS_VerifyMIC (RFC 2743 2.3.2).
        func verifyMIC(_ message: [UInt8], _ mic: [UInt8]) -> Bool {
            var minor: OM_uint32 = 0
            let major = GSS.withBuffer(message) { m in
                GSS.withBuffer(mic) { t in gss_verify_mic(&minor, handle, &m, &t, nil) }
            }
            return !GSS.failed(major)
        }

        deinit {
            var minor: OM_uint32 = 0
            if handle != nil { gss_delete_sec_context(&minor, &handle, nil) }
        }
    }
}
