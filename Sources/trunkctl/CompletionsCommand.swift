import ArgumentParser

extension Trunkctl {
    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a shell completion script (swift-argument-parser's generator).",
            discussion: """
                Examples:
                  trunkctl completions bash > /etc/bash_completion.d/trunkctl
                  trunkctl completions zsh > "${fpath[1]}/_trunkctl"
                  trunkctl completions fish > ~/.config/fish/completions/trunkctl.fish
                """)
        @Argument(help: "bash, zsh or fish.") var shell: String

        func validate() throws {
            guard CompletionShell(rawValue: shell) != nil else { throw ValidationError("shell must be bash, zsh or fish, not '\(shell)'") }
        }

        func run() throws {
            print(Trunkctl.completionScript(for: CompletionShell(rawValue: shell)!))
        }
    }
}
