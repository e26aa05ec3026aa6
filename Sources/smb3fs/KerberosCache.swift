import SMBAuth
#if canImport(Glibc)
import Glibc
#endif

/// Which credential cache `sec=krb5` reads.
enum KerberosCache {
    /// Without `cruid=` (or with the caller's own uid): GSSAPI's default, that is KRB5CCNAME,
    /// then krb5.conf's default_ccache_name. With `cruid=` of another user (root mounting for
    /// them, as mount.cifs does): that user's cache at the default places, `/tmp/krb5cc_UID`
    /// (FILE) or `/run/user/UID/krb5cc` (DIR), owned by that user; the caller's KRB5CCNAME is
    /// not theirs and is not used.
    static func name(cruid: UInt32?) throws -> String? {
        guard let uid = cruid, uid != getuid() else { return nil }
        guard geteuid() == 0 else { throw UsageError("cruid=\(uid): only root may use another user's credential cache") }
        for (type, path) in [("FILE", "/tmp/krb5cc_\(uid)"), ("DIR", "/run/user/\(uid)/krb5cc")] {
            var st = stat()
            guard lstat(path, &st) == 0, st.st_uid == uid else { continue }
            let isFile = st.st_mode & S_IFMT == S_IFREG, isDir = st.st_mode & S_IFMT == S_IFDIR
            if (type == "FILE" && isFile) || (type == "DIR" && isDir) { return "\(type):\(path)" }
        }
        throw UsageError("cruid=\(uid): no credential cache of that user at /tmp/krb5cc_\(uid) or /run/user/\(uid)/krb5cc"
                         + " (the user runs kinit)")
    }

    /// The mount's Kerberos settings, checked before the daemon starts: a cache without a valid
    /// ticket is one line now rather than a failed mount later.
    static func credentials(_ o: MountOptions) throws -> KerberosCredentials {
        let krb = KerberosCredentials(servicePrincipal: o.servicePrincipal ?? "cifs/\(o.host)", cache: try name(cruid: o.cruid))
        do {
            _ = try krb.check()
        } catch let e as GSSError {
            if e.isMissingTicket { throw UsageError("no Kerberos ticket for \(krb.servicePrincipal) (run kinit)") }
            throw UsageError("Kerberos: \(e)")
        }
        return krb
    }
}
