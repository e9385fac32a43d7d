import Foundation

/// The example config files in deploy/config, as the tests of each tier's settings read them.
public enum ExampleConfig {
    /// The path of `deploy/config/NAME` in this checkout.
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/config/" + name).path
    }

    /// The keys the file names, set (`key = value`) or commented out (`# key = value`).
    public static func namedKeys(_ path: String) throws -> Set<String> {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { line -> String? in
            let body = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let equals = body.range(of: " = ") else { return nil }
            return String(body[..<equals.lowerBound])
        })
    }
}
