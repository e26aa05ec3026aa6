/// `smb3fs --help` and `--version`. The option list is the man page's (man/smb3fs.8,
/// OPTIONS): CLITests compares the two, so an option added to one is added to both.
enum Help {
    static let version = "0.9.0"

    /// One documented option: how it is written, its default, what it does.
    struct Entry {
        let names: String
        let meaning: String
        let defaultValue: String?

        init(_ names: String, _ meaning: String, default defaultValue: String? = nil) {
            self.names = names
            self.meaning = meaning
            self.defaultValue = defaultValue
        }
    }

    static let commandLine: [Entry] = [
        Entry("-f", "stay in the foreground; SIGTERM unmounts and exits", default: "detach once mounted"),
        Entry("-d", "log debugging information to standard error; implies -f", default: "off"),
        Entry("-o OPTIONS", "comma-separated mount options (below); repeatable"),
        Entry("-h, --help", "print this help and exit"),
        Entry("-V, --version", "print the version and exit"),
    ]

    static let listOptions: [Entry] = [
        Entry("-a, --all", "also list shares whose name ends in $ (IPC$, print$, C$)", default: "off"),
        Entry("--json", "list: a JSON array instead of NAME<TAB>TYPE<TAB>COMMENT lines; status: one JSON object", default: "off"),
    ]

    static let mountOptions: [Entry] = [
        Entry("username=NAME, user=NAME", "user to log on as (also DOMAIN\\NAME)", default: "from credentials="),
        Entry("password=PW, pass=PW", "password; visible in the process list, prefer credentials= or $PASSWD", default: "credentials=, $PASSWD or a prompt"),
        Entry("credentials=FILE", "read username=, password=, domain= from FILE (mode 0600)", default: "none"),
        Entry("domain=DOM, dom=DOM", "domain or workgroup of the user", default: "none"),
        Entry("sec=ntlmssp, sec=krb5", "NTLMv2 with a password, or a Kerberos ticket from the credential cache", default: "ntlmssp"),
        Entry("spn=SERVICE/HOST[@REALM]", "Kerberos service principal", default: "cifs/HOST"),
        Entry("cruid=USER", "with sec=krb5, use this user's credential cache", default: "the caller"),
        Entry("ip=ADDRESS, addr=ADDRESS", "connect to this address; HOST stays the name", default: "HOST resolved"),
        Entry("port=N", "TCP port; also //HOST:PORT/SHARE; 139 speaks the NetBIOS session service", default: "445"),
        Entry("nodfs", "do not follow DFS referrals: a path below a DFS link answers EREMOTE", default: "off (paths through a DFS link are served by its first target that answers)"),
        Entry("netbios_fallback", "when nothing answers on 445 (refused, timed out), try the NetBIOS session service on port 139, with a warning; only without port=", default: "off"),
        Entry("servern=NAME", "the server's NetBIOS name on port 139", default: "HOST's first label, else *SMBSERVER"),
        Entry("netbiosname=NAME", "this machine's NetBIOS name on port 139", default: "the host name's first label"),
        Entry("vers=V", "dialect: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1, 3 or default", default: "default (3.1.1 preferred)"),
        Entry("min_vers=V", "never offer a dialect below V", default: "2.0.2"),
        Entry("uid=N, gid=N", "owner and group shown for every file", default: "the mounting user"),
        Entry("file_mode=OCTAL", "mode of files", default: "0644"),
        Entry("dir_mode=OCTAL", "mode of directories", default: "0755"),
        Entry("ro", "read-only: every change answers EROFS", default: "off"),
        Entry("rw", "read-write", default: "on"),
        Entry("hard", "operations wait through a server outage", default: "on"),
        Entry("soft", "operations fail with EIO while the server is unreachable", default: "off"),
        Entry("echo_interval=SECONDS", "ECHO after this long without traffic, 1 to 600", default: "60"),
        Entry("max_channels=N", "SMB3 multichannel connections per mount, 1 to 16", default: "4"),
        Entry("multichannel, nomultichannel", "use multichannel when the server offers it, or never", default: "multichannel"),
        Entry("cifsacl", "modes and owners from each file's security descriptor (owner, group, Everyone entries); chmod, chown and new files write it", default: "off (file_mode, dir_mode, uid, gid)"),
        Entry("idsfromsid", "with cifsacl, chown and chgrp give S-1-5-88-1-UID / S-1-5-88-2-GID owners", default: "off (S-1-22-1-UID / S-1-22-2-GID)"),
        Entry("posix, noposix", "use the SMB3 POSIX extensions where the server offers them: its modes, owners, file types and case-sensitive unmapped names; or never ask", default: "posix"),
        Entry("sfu", "mkfifo, mknod and sockets as Interix system files (as the kernel client's sfu); shown with their types", default: "off (EPERM)"),
        Entry("ignore_chown", "chown to another owner succeeds and changes nothing", default: "off (EPERM)"),
        Entry("nobrl", "keep fcntl/flock locks on this machine", default: "off (server locks)"),
        Entry("nomapposix", "send names as they are, without mapping \\ : * ? \" < > |", default: "off (mapped)"),
        Entry("nosign", "do not sign the session (discouraged)", default: "off (signed)"),
        Entry("guest", "log on as guest and accept an unsigned guest session", default: "off"),
        Entry("seal", "encrypt the whole session (SMB 3.x)", default: "off on local networks, on elsewhere"),
        Entry("noseal", "do not encrypt unless the server asks, even off local networks", default: "off"),
        Entry("cipher=LIST", "ciphers offered, in order, :-separated", default: "aes-128-gcm:aes-256-gcm:aes-128-ccm:aes-256-ccm"),
        Entry("require_cipher=LIST", "encrypt, with one of these ciphers only", default: "none"),
        Entry("allow_other", "let other users access the mount", default: "off"),
        Entry("perm, default_permissions", "the kernel checks access against the modes shown", default: "on"),
        Entry("noperm", "no checks here: the server alone decides (with allow_other, every user acts as the mount's SMB user)", default: "off"),
        Entry("actimeo=SECONDS", "how long attributes and entries are cached", default: "1 (30 with cache=loose, 0 with cache=none)"),
        Entry("closetimeo=SECONDS", "keep a file read open this long after its close, 0 to 60", default: "0 (closed at once)"),
        Entry("max_inodes=N", "files kept known before the kernel is asked to forget those least recently used, 1024 to 100000000", default: "131072"),
        Entry("cache=strict|loose|none", "caching and write-behind", default: "strict"),
        Entry("rasize=BYTES", "read-ahead of a sequential reader, 0 to 67108864", default: "8388608 (0 with cache=none)"),
        Entry("direct_io, directio, forcedirectio", "file data skips the page cache: streams cost one copy less; shared mmap fails (ENODEV)", default: "off"),
        Entry("notify, nonotify", "watch listed directories with CHANGE_NOTIFY", default: "notify"),
        Entry("fsname=NAME", "source shown in /proc/mounts", default: "//HOST/SHARE"),
        Entry("auto, noauto, _netdev, nofail, user, users, defaults, exec, noexec, suid, nosuid, dev, nodev, atime, noatime, relatime, comment=TEXT, x-*",
              "generic mount options: accepted and ignored"),
    ]

    static var text: String {
        var out = """
        smb3fs \(version): mount an SMB2/SMB3 share with FUSE

        usage: smb3fs //HOST[:PORT]/SHARE[/PATH] MOUNTPOINT [-o OPTIONS] [-f] [-d]
               mount -t fuse.smb3fs //HOST/SHARE MOUNTPOINT [-o OPTIONS]
               smb3fs list //HOST[:PORT] [-o OPTIONS] [--all] [--json]
               smb3fs status MOUNTPOINT [--json]

        """
        func section(_ title: String, _ entries: [Entry]) {
            out += "\n\(title):\n"
            for e in entries {
                out += "  \(e.names)\n      \(e.meaning)"
                if let d = e.defaultValue { out += " (default: \(d))" }
                out += "\n"
            }
        }
        section("Options", commandLine)
        section("smb3fs list (also takes -o, -d and the mount options) and smb3fs status", listOptions)
        section("Mount options (-o)", mountOptions)
        out += "\nSee smb3fs(8) for the details.\n"
        return out
    }
}
