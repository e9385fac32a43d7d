/// A failure of the store below the database tier.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of storage failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case connection, query, constraint, migration, corrupt, audit, contended, locked, sessionEnded, blobs, backup }
        let base: Base
        /// The store could not be opened or reached.
        public static let connection = Code(base: .connection)
        /// A statement failed.
        public static let query = Code(base: .query)
        /// A uniqueness or foreign-key rule refused the change.
        public static let constraint = Code(base: .constraint)
        /// The schema could not be brought up to date.
        public static let migration = Code(base: .migration)
        /// Stored data does not have the expected shape.
        public static let corrupt = Code(base: .corrupt)
        /// Another transaction held what this one needed for too long (a lock timeout, a busy
        /// database, a serialization failure); nothing was changed and a retry may succeed.
        public static let contended = Code(base: .contended)
        /// The audit entry could not be written, so the change it records was rolled back.
        public static let audit = Code(base: .audit)
        /// An operator locked the account the change is for; nothing was changed.
        public static let locked = Code(base: .locked)
        /// The request's session was ended by a logout or a password change after it was issued; nothing was done.
        public static let sessionEnded = Code(base: .sessionEnded)
        /// The blob store (the folder of central copies) could not be read or written.
        public static let blobs = Code(base: .blobs)
        /// A backup could not be taken, checked or restored; the store was left as it was.
        public static let backup = Code(base: .backup)
        public var description: String { String(describing: base) }
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
