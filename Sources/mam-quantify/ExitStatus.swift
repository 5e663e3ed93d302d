import MAMCase

/// Exit codes of mam-quantify (Docs/exit-codes.md): the library reports kinds of failure,
/// the command line alone turns them into numbers.
enum ExitStatus {
    /// The registration was rejected by the protocol's acceptance thresholds: the report is
    /// written and the margins are flagged unreliable; or it did not converge (no report).
    static let registrationRejected: Int32 = 3
    /// Unknown option, missing argument, contradictory options (sysexits EX_USAGE).
    static let badUsage: Int32 = 64
    /// An input is missing, unreadable, not an image, truncated, or holds no usable structure
    /// (sysexits EX_DATAERR).
    static let invalidInput: Int32 = 65
    /// A bug: please report it with the command and the message (sysexits EX_SOFTWARE).
    static let internalError: Int32 = 70
    /// The output folder or a file in it cannot be written (sysexits EX_CANTCREAT).
    static let cannotWrite: Int32 = 73
    /// The analysis protocol is unknown or invalid (sysexits EX_CONFIG).
    static let invalidProtocol: Int32 = 78
}

extension PipelineError.Kind {
    var exitStatus: Int32 {
        switch self {
        case .badUsage: return ExitStatus.badUsage
        case .invalidInput: return ExitStatus.invalidInput
        case .registrationFailed: return ExitStatus.registrationRejected
        case .cannotWrite: return ExitStatus.cannotWrite
        case .invalidProtocol: return ExitStatus.invalidProtocol
        case .internalFailure: return ExitStatus.internalError
        }
    }
}
