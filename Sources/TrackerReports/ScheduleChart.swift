import Foundation
import Scheduling

/// A Gantt-style picture of one or more orders of a frame: for each order a panel with one row per task
/// in the order's sequence, the upload (light) and the processing on the server (dark) as bars on a
/// shared time axis, each task's deadline as a tick, and a task that misses its deadline in red.
public struct ScheduleChart: Sendable {
    public struct Lane: Sendable {
        public var title: String
        public var order: [Int]
        public init(title: String, order: [Int]) {
            self.title = title
            self.order = order
        }
    }

    /// One task's place in an order: when its upload starts and ends, when the server works on it.
    public struct Slot: Sendable, Equatable {
        public var task: Int
        public var uploadStart: Double
        public var uploadEnd: Double
        public var processingStart: Double
        public var completion: Double
        public var deadline: Double
        public var missed: Bool { completion > deadline }
    }

    public var frame: Frame
    public var lanes: [Lane]
    public var width: Double = 860

    public init(frame: Frame, lanes: [Lane]) {
        self.frame = frame
        self.lanes = lanes
    }

    /// The slots of an order, by the same equations as `Frame.evaluate` (uploads back to back; a task is
    /// processed once its data has arrived and the previous task is done).
    public static func slots(of order: [Int], in frame: Frame) -> [Slot] {
        var arrived = 0.0
        var previousCompletion = 0.0
        return order.map { task in
            let uploadStart = arrived
            arrived += frame.transmitSeconds(task)
            let start = max(arrived, previousCompletion)
            let completion = start + frame.processSeconds(task)
            previousCompletion = completion
            return Slot(task: task, uploadStart: uploadStart, uploadEnd: arrived, processingStart: start,
                        completion: completion, deadline: frame.tasks[task].deadlineSeconds)
        }
    }

    public func svg() -> String {
        let laneSlots = lanes.map { Self.slots(of: $0.order, in: frame) }
        let end = laneSlots.flatMap { $0.flatMap { [$0.completion, $0.deadline] } }.max() ?? 1
        let axisEnd = max(end, 1e-9)
        let ticks = NiceTicks.linear(min: 0, max: axisEnd)
        let left = 64.0, right = 24.0, rowHeight = 18.0, laneGap = 44.0, top = 16.0
        let plotWidth = width - left - right
        func x(_ seconds: Double) -> Double { left + seconds / axisEnd * plotWidth }
        var y = top
        var body = ""
        for (lane, slots) in zip(lanes, laneSlots) {
            let misses = slots.filter(\.missed).count
            let objective = frame.evaluate(lane.order).objective
            body += "<text x=\"\(n(left))\" y=\"\(n(y + 14))\" font-weight=\"bold\">\(xmlEscaped(lane.title))</text>"
            body += "<text x=\"\(n(width - right))\" y=\"\(n(y + 14))\" text-anchor=\"end\">J = \(Self.label(objective)) s, "
                + "\(misses) missed</text>\n"
            y += 24
            let laneTop = y
            for slot in slots {
                let colour = slot.missed ? "#c62828" : "#1f5fa8"
                let light = slot.missed ? "#f4b4b4" : "#a9c7ea"
                body += "<g><title>task \(slot.task): upload \(Self.label(slot.uploadStart))–\(Self.label(slot.uploadEnd)) s, "
                    + "processing \(Self.label(slot.processingStart))–\(Self.label(slot.completion)) s, deadline "
                    + "\(Self.label(slot.deadline)) s\(slot.missed ? " (missed)" : "")</title>"
                body += "<text x=\"\(n(left - 8))\" y=\"\(n(y + 13))\" text-anchor=\"end\">task \(slot.task)</text>"
                body += "<rect x=\"\(n(x(slot.uploadStart)))\" y=\"\(n(y + 3))\" width=\"\(n(max(x(slot.uploadEnd) - x(slot.uploadStart), 1)))\" "
                    + "height=\"\(n(rowHeight - 6))\" fill=\"\(light)\"/>"
                body += "<rect x=\"\(n(x(slot.processingStart)))\" y=\"\(n(y + 2))\" "
                    + "width=\"\(n(max(x(slot.completion) - x(slot.processingStart), 1)))\" height=\"\(n(rowHeight - 4))\" "
                    + "fill=\"\(colour)\" class=\"\(slot.missed ? "missed" : "met")\"/>"
                body += "<line x1=\"\(n(x(slot.deadline)))\" y1=\"\(n(y))\" x2=\"\(n(x(slot.deadline)))\" y2=\"\(n(y + rowHeight))\" "
                    + "stroke=\"#e53935\" stroke-width=\"2\" class=\"deadline\"/></g>\n"
                y += rowHeight
            }
            body += "<line x1=\"\(n(left))\" y1=\"\(n(laneTop))\" x2=\"\(n(left))\" y2=\"\(n(y))\" stroke=\"#444444\"/>\n"
            y += laneGap - 24
        }
        // The time axis under the last panel.
        let axisY = y
        body += "<line x1=\"\(n(left))\" y1=\"\(n(axisY))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(axisY))\" stroke=\"#444444\"/>\n"
        for tick in ticks {
            body += "<line x1=\"\(n(x(tick.value)))\" y1=\"\(n(axisY))\" x2=\"\(n(x(tick.value)))\" y2=\"\(n(axisY + 5))\" stroke=\"#444444\"/>"
            body += "<text x=\"\(n(x(tick.value)))\" y=\"\(n(axisY + 18))\" text-anchor=\"middle\">\(xmlEscaped(tick.label))</text>\n"
        }
        body += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(axisY + 36))\" text-anchor=\"middle\">time (s)</text>\n"
        // Legend.
        let legendY = axisY + 52
        body += "<rect x=\"\(n(left))\" y=\"\(n(legendY))\" width=\"18\" height=\"10\" fill=\"#a9c7ea\"/>"
            + "<text x=\"\(n(left + 24))\" y=\"\(n(legendY + 10))\">upload</text>"
            + "<rect x=\"\(n(left + 90))\" y=\"\(n(legendY))\" width=\"18\" height=\"10\" fill=\"#1f5fa8\"/>"
            + "<text x=\"\(n(left + 114))\" y=\"\(n(legendY + 10))\">processing</text>"
            + "<rect x=\"\(n(left + 210))\" y=\"\(n(legendY))\" width=\"18\" height=\"10\" fill=\"#c62828\"/>"
            + "<text x=\"\(n(left + 234))\" y=\"\(n(legendY + 10))\">deadline missed</text>"
            + "<line x1=\"\(n(left + 370))\" y1=\"\(n(legendY - 2))\" x2=\"\(n(left + 370))\" y2=\"\(n(legendY + 12))\" stroke=\"#e53935\" stroke-width=\"2\"/>"
            + "<text x=\"\(n(left + 378))\" y=\"\(n(legendY + 10))\">deadline</text>\n"
        let height = legendY + 24
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" \
            font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <title>Schedule</title>
            <rect x="0" y="0" width="\(n(width))" height="\(n(height))" fill="#ffffff"/>
            \(body)</svg>

            """
    }

    /// Four significant digits, as the compare tables print.
    static func label(_ value: Double) -> String { CompareReport(spread: .none).short(value) }

    private func n(_ value: Double) -> String { String(format: "%.1f", value) }
}
