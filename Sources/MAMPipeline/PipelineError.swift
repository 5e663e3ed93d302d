/// Exit codes of mam-quantify (Docs/exit-codes.md).
public enum ExitStatus {
    /// The registration was rejected by the protocol's acceptance thresholds: the report is
    /// written and the margins are flagged unreliable; or it did not converge (no report).
    public static let registrationRejected: Int32 = 3
    /// Unknown option, missing argument, contradictory options (sysexits EX_USAGE).
    public static let badUsage: Int32 = 64
    /// An input is missing, unreadable, not NIfTI, truncated, or holds no usable structure
    /// (sysexits EX_DATAERR).
    public static let invalidInput: Int32 = 65
    /// A bug: please report it with the command and the message (sysexits EX_SOFTWARE).
    public static let internalError: Int32 = 70
    /// The output folder or a file in it cannot be written (sysexits EX_CANTCREAT).
    public static let cannotWrite: Int32 = 73
    /// The analysis protocol is unknown or invalid (sysexits EX_CONFIG).
    public static let invalidProtocol: Int32 = 78
}

/// Why a case could not be analysed: the stage, the exit status, and one line naming the file
/// and the problem.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Stage: String, Sendable, Codable {
        case analysisProtocol = "protocol"
        case input
        case registration
        case margin
        case output
    }

    public let stage: Stage
    public let exitStatus: Int32
    public let message: String

    public init(stage: Stage, exitStatus: Int32, message: String) {
        self.stage = stage
        self.exitStatus = exitStatus
        self.message = message
    }

    public var description: String { message }

    static func input(_ message: String) -> PipelineError {
        PipelineError(stage: .input, exitStatus: ExitStatus.invalidInput, message: message)
    }

    public init(_ error: ProtocolError) {
        self.init(stage: .analysisProtocol, exitStatus: ExitStatus.invalidProtocol, message: error.description)
    }
}
