internal import CPKCS11

/// A PKCS#11 attribute template whose values live in one buffer for exactly the scope of a call:
/// a `CK_ATTRIBUTE` points into memory it does not own, so it is built and freed here, never kept.
struct Template {
    private(set) var entries: [(type: CK_ATTRIBUTE_TYPE, bytes: [UInt8])] = []

    init() {}

    /// Adds a boolean attribute (`CK_BBOOL`).
    func with(_ type: UInt, _ value: Bool) -> Template {
        with(type, bytes: [value ? 1 : 0])
    }

    /// Adds an unsigned-long attribute (`CK_ULONG`, `CK_OBJECT_CLASS`, `CK_KEY_TYPE`).
    func with(_ type: UInt, _ value: UInt) -> Template {
        with(type, bytes: withUnsafeBytes(of: CK_ULONG(value)) { Array($0) })
    }

    /// Adds a text attribute (`CKA_LABEL`), UTF-8 without a terminator.
    func with(_ type: UInt, _ value: String) -> Template {
        with(type, bytes: Array(value.utf8))
    }

    /// Adds an attribute of raw bytes.
    func with(_ type: UInt, bytes: [UInt8]) -> Template {
        var copy = self
        copy.entries.append((CK_ATTRIBUTE_TYPE(type), bytes))
        return copy
    }

    /// Calls `body` with the template as a C array and its count.
    func withAttributes<T>(_ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws -> T) rethrows -> T {
        let total = entries.reduce(0) { $0 + $1.bytes.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
        let attributes = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(entries.count, 1))
        defer {
            storage.initializeMemory(as: UInt8.self, repeating: 0)
            storage.deallocate()
            attributes.deallocate()
        }
        var offset = 0
        for (index, entry) in entries.enumerated() {
            let start = storage.baseAddress! + offset
            if !entry.bytes.isEmpty {
                entry.bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            (attributes + index).initialize(to: CK_ATTRIBUTE(type: entry.type, pValue: entry.bytes.isEmpty ? nil : start, ulValueLen: CK_ULONG(entry.bytes.count)))
            offset += entry.bytes.count
        }
        return try body(entries.isEmpty ? nil : attributes, CK_ULONG(entries.count))
    }
}
