import Foundation

#if FUZZING
/// libFuzzer's entry point; the target comes from `COFFER_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(FuzzTargets.selected, bytes)
    return 0
}

extension FuzzTargets {
    /// The target this libFuzzer process runs.
    static let selected = ProcessInfo.processInfo.environment["COFFER_FUZZ_TARGET"] ?? "container"
}
#else
/// Without libFuzzer: runs a target over files and folders of inputs (the kept corpus and
/// crashers), for CI's regression check: `coffer-fuzz TARGET PATH...`.
@main
struct ReplayCorpus {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--write-seeds", let folder = arguments.dropFirst().first {
            for (target, inputs) in try FuzzSeeds.all() {
                try FileManager.default.createDirectory(atPath: folder + "/" + target, withIntermediateDirectories: true)
                for (n, input) in inputs.enumerated() {
                    try Data(input).write(to: URL(fileURLWithPath: "\(folder)/\(target)/seed-\(n)"))
                }
            }
            return
        }
        guard let target = arguments.first, FuzzTargets.names.contains(target) else {
            FileHandle.standardError.write(Data("usage: coffer-fuzz TARGET PATH...  |  coffer-fuzz --write-seeds FOLDER   (targets: \(FuzzTargets.names.joined(separator: ", ")))\n".utf8))
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                FuzzTargets.run(target, Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("coffer-fuzz: \(target): \(count) inputs ran cleanly")
    }
}
#endif
