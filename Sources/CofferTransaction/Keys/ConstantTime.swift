/// Comparing secrets without telling by the time taken where they first differ.
enum ConstantTime {
    /// Whether `a` and `b` are equal, looking at every byte when their lengths match.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
