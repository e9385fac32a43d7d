/// An error raised while reading or writing a Coffer container.
///
/// Errors are a public struct over a private code so that new cases break no one.
public struct ContainerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of container failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case notAContainer
            case unsupportedVersion
            case malformedHeader
            case wrongKey
            case headerAuthenticationFailed
            case chunkAuthenticationFailed
            case truncated
            case trailingData
            case io
        }

        let base: Base

        /// The input does not start with the Coffer magic bytes.
        public static let notAContainer = Code(base: .notAContainer)
        /// The container was written by a format version this build cannot read.
        public static let unsupportedVersion = Code(base: .unsupportedVersion)
        /// A header field is out of range or inconsistent.
        public static let malformedHeader = Code(base: .malformedHeader)
        /// The decode key does not open the wrapped file key.
        public static let wrongKey = Code(base: .wrongKey)
        /// The header was altered after it was written.
        public static let headerAuthenticationFailed = Code(base: .headerAuthenticationFailed)
        /// A payload chunk was altered, reordered or replaced.
        public static let chunkAuthenticationFailed = Code(base: .chunkAuthenticationFailed)
        /// The container ends before its last chunk.
        public static let truncated = Code(base: .truncated)
        /// Bytes follow the last chunk.
        public static let trailingData = Code(base: .trailingData)
        /// Reading or writing a file failed.
        public static let io = Code(base: .io)

        public var description: String { String(describing: base) }
    }

    /// What went wrong.
    public let code: Code
    /// A sentence for the user: what failed and what to do.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
