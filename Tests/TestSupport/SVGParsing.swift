import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// What an SVG parses to: element names in document order and each `<text>` element's text.
public struct ParsedSVG {
    public var elements: [String] = []
    public var texts: [String] = []
    public var attributes: [[String: String]] = []

    public func count(_ name: String) -> Int { elements.filter { $0 == name }.count }
}

/// Parses `svg` with Foundation's XMLParser; nil (and the parser's error) when it is not well-formed XML.
public func parseSVG(_ svg: String) -> Result<ParsedSVG, Error> {
    final class Collector: NSObject, XMLParserDelegate {
        var parsed = ParsedSVG()
        var currentText: String?
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            parsed.elements.append(name)
            parsed.attributes.append(attributes)
            if name == "text" { currentText = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { currentText? += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text", let text = currentText { parsed.texts.append(text); currentText = nil }
        }
    }
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = Collector()
    parser.delegate = collector
    guard parser.parse() else {
        return .failure(parser.parserError ?? SVGParseFailure())
    }
    return .success(collector.parsed)
}

/// XMLParser reported failure without an error of its own.
public struct SVGParseFailure: Error {}
