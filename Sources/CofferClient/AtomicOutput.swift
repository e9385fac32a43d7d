import CofferFiles

/// An output file of the client (a container, an opened file), written with ``AtomicFile`` so that
/// no failure or kill leaves a partial file at its path; its failures as ``ClientError``s.
final class AtomicOutput {
    private let file: AtomicFile
    /// The temporary file, open for writing.
    var fd: Int32 { file.fd }

    /// Creates the temporary file (mode 0600). Fails early if `target` exists and `force` is off.
    init(target: String, force: Bool) throws {
        do {
            file = try AtomicFile(target: target, replacing: force)
        } catch let error as FileWriteError {
            throw ClientError(error)
        }
    }

    /// Allocates the file's first `bytes` before it is written (``AtomicFile/reserve(_:)``): no room
    /// fails here, before anything was read or asked.
    func reserve(_ bytes: Int64) throws {
        do {
            try file.reserve(bytes)
        } catch let error as FileWriteError {
            throw ClientError(error)
        }
    }

    /// Flushes to disk and moves the file into place.
    func commit(force: Bool) throws {
        do {
            try file.commit(replacing: force)
        } catch let error as FileWriteError {
            throw ClientError(error)
        }
    }
}

extension ClientError {
    /// A file that could not be written: exit 73, or 74 when writing failed midway.
    init(_ error: FileWriteError) {
        self.init(error.kind == .io ? .ioError : .cannotCreate, error.description)
    }
}

extension SecureFiles {
    /// Removes every output this process began and did not finish, even one a writer thread still
    /// holds: call it before exiting on an error, so that no temporary file is left behind.
    public static func discardUnfinishedOutputs() {
        AtomicFile.discardUncommitted()
    }
}
