import FuzzDriver
import MAMCase

/// The function libFuzzer calls with each input: the input is a protocol file's text (YAML or JSON), parsed as
/// `--protocol FILE` is. Any crash, sanitizer report, leak or hang is a finding; a
/// `ProtocolError` is not.
func fuzzProtocolParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    _ = try? AnalysisProtocol(yaml: text, source: "fuzz.yaml")
    return 0
}

runFuzzer(fuzzProtocolParser)
