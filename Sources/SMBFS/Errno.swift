import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The one table from SMB failures to errno values returned to applications.
public enum ErrnoMapping {
    public static func errno(for status: NTStatus) -> Int32 {
        switch status {
        case .objectNameNotFound, .objectPathNotFound, .noSuchFile, .deletePending: return ENOENT
        case .objectNameCollision: return EEXIST
        case .accessDenied, .cannotDelete: return EACCES
        // An owner the server refuses to give a file (MS-DTYP 2.5.3.4): chown's EPERM.
        case .invalidOwner, .privilegeNotHeld: return EPERM
        case .directoryNotEmpty: return ENOTEMPTY
        case .fileIsADirectory: return EISDIR
        case .notADirectory: return ENOTDIR
        case .sharingViolation: return EBUSY
        // A byte-range lock held by another client: POSIX's answer for a locked range.
        case .fileLockConflict, .lockNotGranted: return EAGAIN
        case .diskFull: return ENOSPC
        case .quotaExceeded: return EDQUOT
        case .mediaWriteProtected: return EROFS
        case .nameTooLong: return ENAMETOOLONG
        case .objectNameInvalid: return EINVAL
        case .notSameDevice: return EXDEV
        case .notSupported, .notImplemented, .invalidDeviceRequest, .easNotSupported: return EOPNOTSUPP
        case .eaTooLarge: return E2BIG
        case .invalidParameter: return EINVAL
        case .insufficientResources: return ENOMEM
        case .ioTimeout: return ETIMEDOUT
        case .cancelled: return EINTR
        case .invalidHandle, .fileClosed: return EBADF
        // A DFS link (MS-DFSC 3.1.5.1) this mount does not follow (`nodfs`, or a namespace
        // inside a link's target): the kernel's cifs client answers EREMOTE likewise.
        case .pathNotCovered: return EREMOTE
        case .logonFailure, .wrongPassword, .noSuchUser, .accountDisabled, .accountLockedOut,
             .passwordExpired, .accountRestriction: return EACCES
        default: return EIO
        }
    }

    public static func errno(for error: Error) -> Int32 {
        if let e = error as? FSError { return e.errno }
        guard let e = error as? SMBError else { return EIO }
        switch e {
        case .status(let s, _): return errno(for: s)
        case .timeout: return ETIMEDOUT
        case .connectionClosed, .connectFailed, .openLost: return EIO
        case .unsupported: return EOPNOTSUPP
        case .smb1Response: return EPROTONOSUPPORT
        // As the kernel's cifs client answers once a Kerberos ticket has run out.
        case .noTicket: return EKEYEXPIRED
        case .malformed, .signatureInvalid, .notEncrypted, .decryptionFailed, .frameTooLarge, .authentication,
             .securityPolicy, .remoteCall: return EIO
        }
    }
}

/// A failure decided by the filesystem layer itself.
public struct FSError: Error, Sendable {
    public let errno: Int32
    public init(_ errno: Int32) { self.errno = errno }
}
