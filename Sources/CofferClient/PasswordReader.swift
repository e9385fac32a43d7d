import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a password from the terminal without echo, or from standard input for scripts.
public enum PasswordReader {
    /// Reads the first line of standard input.
    public static func fromStandardInput() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ClientError(.usage, "--password-stdin was given but standard input holds no password")
        }
        return line
    }

    /// Prompts on the controlling terminal with echo off.
    public static func fromTerminal(prompt: String) throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else {
            throw ClientError(.usage, "there is no terminal to ask for the password; pipe it in with --password-stdin")
        }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else {
            throw ClientError(.usage, "cannot read a password from this terminal; use --password-stdin")
        }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = write(fd, prompt, prompt.utf8.count)
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &original)
            _ = write(fd, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != 10, byte != 13 {
            bytes.append(byte)
            if bytes.count > 4096 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
