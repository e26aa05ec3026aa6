/// NTSTATUS values (MS-ERREF 2.3) that SMB2 servers return and this client acts on.
public struct NTStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let success = NTStatus(rawValue: 0x0000_0000)
    public static let pending = NTStatus(rawValue: 0x0000_0103)
    /// CHANGE_NOTIFY ended because its handle was closed (MS-SMB2 3.3.5.19).
    public static let notifyCleanup = NTStatus(rawValue: 0x0000_010B)
    /// CHANGE_NOTIFY: more changed than fits; the client enumerates the directory again.
    public static let notifyEnumDir = NTStatus(rawValue: 0x0000_010C)
    public static let bufferOverflow = NTStatus(rawValue: 0x8000_0005)
    public static let noMoreFiles = NTStatus(rawValue: 0x8000_0006)
    public static let stoppedOnSymlink = NTStatus(rawValue: 0x8000_002D)
    public static let notImplemented = NTStatus(rawValue: 0xC000_0002)
    public static let invalidInfoClass = NTStatus(rawValue: 0xC000_0003)
    public static let infoLengthMismatch = NTStatus(rawValue: 0xC000_0004)
    public static let invalidHandle = NTStatus(rawValue: 0xC000_0008)
    public static let invalidParameter = NTStatus(rawValue: 0xC000_000D)
    public static let noSuchFile = NTStatus(rawValue: 0xC000_000F)
    public static let invalidDeviceRequest = NTStatus(rawValue: 0xC000_0010)
    public static let endOfFile = NTStatus(rawValue: 0xC000_0011)
    public static let moreProcessingRequired = NTStatus(rawValue: 0xC000_0016)
    public static let accessDenied = NTStatus(rawValue: 0xC000_0022)
    public static let bufferTooSmall = NTStatus(rawValue: 0xC000_0023)
    public static let objectNameInvalid = NTStatus(rawValue: 0xC000_0033)
    public static let objectNameNotFound = NTStatus(rawValue: 0xC000_0034)
    public static let objectNameCollision = NTStatus(rawValue: 0xC000_0035)
    public static let objectPathNotFound = NTStatus(rawValue: 0xC000_003A)
    public static let sharingViolation = NTStatus(rawValue: 0xC000_0043)
    public static let quotaExceeded = NTStatus(rawValue: 0xC000_0044)
    public static let fileLockConflict = NTStatus(rawValue: 0xC000_0054)
    public static let lockNotGranted = NTStatus(rawValue: 0xC000_0055)
    public static let noEasOnFile = NTStatus(rawValue: 0xC000_0052)
    public static let eaTooLarge = NTStatus(rawValue: 0xC000_0050)
    public static let easNotSupported = NTStatus(rawValue: 0xC000_004F)
    public static let deletePending = NTStatus(rawValue: 0xC000_0056)
    public static let invalidOwner = NTStatus(rawValue: 0xC000_005A)
    public static let privilegeNotHeld = NTStatus(rawValue: 0xC000_0061)
    public static let cannotDelete = NTStatus(rawValue: 0xC000_0121)
    public static let noSuchUser = NTStatus(rawValue: 0xC000_0064)
    public static let wrongPassword = NTStatus(rawValue: 0xC000_006A)
    public static let logonFailure = NTStatus(rawValue: 0xC000_006D)
    public static let accountRestriction = NTStatus(rawValue: 0xC000_006E)
    public static let passwordExpired = NTStatus(rawValue: 0xC000_0071)
    public static let accountDisabled = NTStatus(rawValue: 0xC000_0072)
    public static let diskFull = NTStatus(rawValue: 0xC000_007F)
    public static let insufficientResources = NTStatus(rawValue: 0xC000_009A)
    public static let mediaWriteProtected = NTStatus(rawValue: 0xC000_00A2)
    public static let ioTimeout = NTStatus(rawValue: 0xC000_00B5)
    public static let fileIsADirectory = NTStatus(rawValue: 0xC000_00BA)
    public static let notSupported = NTStatus(rawValue: 0xC000_00BB)
    public static let networkNameDeleted = NTStatus(rawValue: 0xC000_00C9)
    public static let badNetworkName = NTStatus(rawValue: 0xC000_00CC)
    public static let notSameDevice = NTStatus(rawValue: 0xC000_00D4)
    public static let directoryNotEmpty = NTStatus(rawValue: 0xC000_0101)
    public static let notADirectory = NTStatus(rawValue: 0xC000_0103)
    public static let nameTooLong = NTStatus(rawValue: 0xC000_0106)
    public static let cancelled = NTStatus(rawValue: 0xC000_0120)
    public static let fileClosed = NTStatus(rawValue: 0xC000_0128)
    public static let userSessionDeleted = NTStatus(rawValue: 0xC000_0203)
    public static let accountLockedOut = NTStatus(rawValue: 0xC000_0234)
    public static let notAReparsePoint = NTStatus(rawValue: 0xC000_0275)
    /// The path crosses a DFS link: ask for a referral (MS-DFSC 3.1.5.1).
    public static let pathNotCovered = NTStatus(rawValue: 0xC000_0257)
    /// The server is not DFS-capable (MS-SMB2 3.3.5.15.2).
    public static let fsDriverRequired = NTStatus(rawValue: 0xC000_019C)
    public static let notFound = NTStatus(rawValue: 0xC000_0225)
    public static let networkSessionExpired = NTStatus(rawValue: 0xC000_035C)

    /// Severity bits 31..30 = 3 mean error (MS-ERREF 2.3.1); warnings such as
    /// STATUS_BUFFER_OVERFLOW still carry data.
    public var isError: Bool { rawValue >> 30 == 3 }

    static let names: [UInt32: String] = [
        0x0000_0000: "STATUS_SUCCESS", 0x0000_0103: "STATUS_PENDING",
        0x0000_010B: "STATUS_NOTIFY_CLEANUP", 0x0000_010C: "STATUS_NOTIFY_ENUM_DIR",
        0x8000_0005: "STATUS_BUFFER_OVERFLOW", 0x8000_0006: "STATUS_NO_MORE_FILES",
        0x8000_002D: "STATUS_STOPPED_ON_SYMLINK",
        0xC000_0002: "STATUS_NOT_IMPLEMENTED", 0xC000_0003: "STATUS_INVALID_INFO_CLASS",
        0xC000_0004: "STATUS_INFO_LENGTH_MISMATCH",
        0xC000_0008: "STATUS_INVALID_HANDLE", 0xC000_000D: "STATUS_INVALID_PARAMETER",
        0xC000_000F: "STATUS_NO_SUCH_FILE", 0xC000_0010: "STATUS_INVALID_DEVICE_REQUEST",
        0xC000_0011: "STATUS_END_OF_FILE", 0xC000_0016: "STATUS_MORE_PROCESSING_REQUIRED",
        0xC000_0022: "STATUS_ACCESS_DENIED", 0xC000_0023: "STATUS_BUFFER_TOO_SMALL",
        0xC000_0033: "STATUS_OBJECT_NAME_INVALID", 0xC000_0034: "STATUS_OBJECT_NAME_NOT_FOUND",
        0xC000_0035: "STATUS_OBJECT_NAME_COLLISION", 0xC000_003A: "STATUS_OBJECT_PATH_NOT_FOUND",
        0xC000_0043: "STATUS_SHARING_VIOLATION", 0xC000_0044: "STATUS_QUOTA_EXCEEDED",
        0xC000_004F: "STATUS_EAS_NOT_SUPPORTED", 0xC000_0050: "STATUS_EA_TOO_LARGE",
        0xC000_0052: "STATUS_NO_EAS_ON_FILE", 0xC000_0054: "STATUS_FILE_LOCK_CONFLICT", 0xC000_0055: "STATUS_LOCK_NOT_GRANTED",
        0xC000_0056: "STATUS_DELETE_PENDING", 0xC000_0064: "STATUS_NO_SUCH_USER",
        0xC000_006A: "STATUS_WRONG_PASSWORD", 0xC000_006D: "STATUS_LOGON_FAILURE",
        0xC000_006E: "STATUS_ACCOUNT_RESTRICTION", 0xC000_0071: "STATUS_PASSWORD_EXPIRED",
        0xC000_0072: "STATUS_ACCOUNT_DISABLED", 0xC000_007F: "STATUS_DISK_FULL",
        0xC000_009A: "STATUS_INSUFFICIENT_RESOURCES", 0xC000_00A2: "STATUS_MEDIA_WRITE_PROTECTED",
        0xC000_00B5: "STATUS_IO_TIMEOUT", 0xC000_00BA: "STATUS_FILE_IS_A_DIRECTORY",
        0xC000_00BB: "STATUS_NOT_SUPPORTED", 0xC000_00C9: "STATUS_NETWORK_NAME_DELETED",
        0xC000_00CC: "STATUS_BAD_NETWORK_NAME", 0xC000_00D4: "STATUS_NOT_SAME_DEVICE",
        0xC000_0101: "STATUS_DIRECTORY_NOT_EMPTY", 0xC000_0103: "STATUS_NOT_A_DIRECTORY",
        0xC000_0106: "STATUS_NAME_TOO_LONG", 0xC000_0120: "STATUS_CANCELLED", 0xC000_0121: "STATUS_CANNOT_DELETE",
        0xC000_0128: "STATUS_FILE_CLOSED", 0xC000_0161: "STATUS_ILLEGAL_CHARACTER",
        0xC000_0203: "STATUS_USER_SESSION_DELETED",
        0xC000_0234: "STATUS_ACCOUNT_LOCKED_OUT", 0xC000_0275: "STATUS_NOT_A_REPARSE_POINT",
        0xC000_0257: "STATUS_PATH_NOT_COVERED", 0xC000_019C: "STATUS_FS_DRIVER_REQUIRED", 0xC000_0225: "STATUS_NOT_FOUND",
        0xC000_035C: "STATUS_NETWORK_SESSION_EXPIRED",
    ]

    public var description: String {
        Self.names[rawValue] ?? "NTSTATUS 0x" + String(rawValue, radix: 16, uppercase: true)
    }
}
