/// Plays one `Prompt` from its start: a `SampleSource` for one channel.
public final class PromptPlayer: SampleSource {
    public let prompt: Prompt
    private var position = 0

    public init(_ prompt: Prompt) { self.prompt = prompt }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        let source = prompt.samples
        let count = min(out.count, source.count - position)
        guard count > 0, let destination = out.baseAddress, let start = source.baseAddress else { return 0 }
        destination.update(from: start + position, count: count)
        position += count
        return count
    }
}
