/// A failure the `coffer` client reports: one sentence and one documented exit status.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure, each with its exit status (sysexits.h values).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case usage, dataError, noInput, unavailable, cannotCreate, ioError, notPermitted, configuration, conflict, software
        }
        let base: Base

        /// Bad arguments. Exit 64.
        public static let usage = Code(base: .usage)
        /// The container is damaged, altered, truncated or not a container; the plaintext does not match. Exit 65.
        public static let dataError = Code(base: .dataError)
        /// The input file does not exist or cannot be read. Exit 66.
        public static let noInput = Code(base: .noInput)
        /// The key service is unreachable or busy. Exit 69.
        public static let unavailable = Code(base: .unavailable)
        /// The output exists (use --force) or cannot be created. Exit 73.
        public static let cannotCreate = Code(base: .cannotCreate)
        /// Reading or writing failed midway. Exit 74.
        public static let ioError = Code(base: .ioError)
        /// Authentication failed or the server refused the request. Exit 77.
        public static let notPermitted = Code(base: .notPermitted)
        /// Server, CA certificate or user is not configured. Exit 78.
        public static let configuration = Code(base: .configuration)
        /// The name is taken. Exit 75.
        public static let conflict = Code(base: .conflict)
        /// An unexpected answer or internal failure. Exit 70.
        public static let software = Code(base: .software)

        /// The process exit status for this code.
        public var exitStatus: Int32 {
            switch base {
            case .usage: 64
            case .dataError: 65
            case .noInput: 66
            case .unavailable: 69
            case .software: 70
            case .cannotCreate: 73
            case .ioError: 74
            case .conflict: 75
            case .notPermitted: 77
            case .configuration: 78
            }
        }

        public var description: String { String(describing: base) }
    }

    public let code: Code
    public let message: String
    /// Seconds the key service asked to wait before trying again (a 429 or 503 answer).
    public let retryAfter: Int?

    public init(_ code: Code, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}
