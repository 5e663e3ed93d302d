/// Why a case could not be analysed: the stage, the kind of failure, and one line naming the
/// file and the problem. The command line turns kinds into exit codes (Docs/exit-codes.md).
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Stage: String, Sendable, Codable {
        case analysisProtocol = "protocol"
        case input
        case registration
        case margin
        case output
    }

    public enum Kind: Sendable, Equatable, CaseIterable {
        /// The request contradicts itself (say, registration asked without both livers).
        case badUsage
        /// An input is missing, unreadable, not an image, truncated, or holds no usable
        /// structure.
        case invalidInput
        /// The registration did not converge: no margin can be trusted.
        case registrationFailed
        /// The output folder or a file in it cannot be written.
        case cannotWrite
        /// The analysis protocol is unknown or invalid.
        case invalidProtocol
        /// A bug.
        case internalFailure
    }

    public let stage: Stage
    public let kind: Kind
    public let message: String

    public init(stage: Stage, kind: Kind, message: String) {
        self.stage = stage
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func input(_ message: String) -> PipelineError {
        PipelineError(stage: .input, kind: .invalidInput, message: message)
    }

    public init(_ error: ProtocolError) {
        self.init(stage: .analysisProtocol, kind: .invalidProtocol, message: error.description)
    }
}
