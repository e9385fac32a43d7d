import CofferAPI

extension WebManifest {
    /// The manifest of a module's served files.
    static func encode(_ files: some Sequence<WebModule.File>) -> [UInt8] {
        encode(files.map { Entry(path: $0.path, size: $0.bytes.count, sha256: Hex.encode($0.sha256)) })
    }
}
