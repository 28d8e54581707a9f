import Foundation
import Testing
@testable import TrackerReports

@Suite struct SpreadRoundingTests {
    let two = SpreadRounding()

    @Test func theHalfWidthKeepsTwoSignificantDigitsAndTheMeanItsDecimalPlace() {
        // The cells: 0.08968 is 0.090 at two digits (three decimals), so the mean keeps three.
        #expect(two.meanAndHalfWidth(1.313, 0.08968) == "1.313 ± 0.090")
        #expect(two.meanAndHalfWidth(0.007812, 0.01108) == "0.008 ± 0.011")
        #expect(two.meanAndHalfWidth(1.3134, 0.1234) == "1.31 ± 0.12")
        #expect(two.meanAndHalfWidth(0.05, 0.0) == "0.05 ± 0")
        #expect(two.meanAndHalfWidth(1843.2, 567.4) == "1840 ± 570")
        #expect(two.meanAndHalfWidth(12.5, 3.46) == "12.5 ± 3.5")
        #expect(two.meanAndHalfWidth(1.313, 0.0) == "1.313 ± 0")
    }

    @Test func aHalfWidthThatRoundsUpToTheNextPowerOfTenKeepsTwoDigits() {
        #expect(two.meanAndHalfWidth(1.23456, 0.0996) == "1.23 ± 0.10")
        #expect(two.meanAndHalfWidth(50.0, 9.97) == "50 ± 10")
    }

    @Test func digitsOverridesTheSignificantDigitsOfTheSpread() {
        #expect(SpreadRounding(digits: 1).meanAndHalfWidth(1.313, 0.08968) == "1.31 ± 0.09")
        #expect(SpreadRounding(digits: 3).meanAndHalfWidth(1.313, 0.08968) == "1.3130 ± 0.0897")
        #expect(SpreadRounding(digits: 1).meanAndHalfWidth(0.007812, 0.01108) == "0.01 ± 0.01")
    }

    @Test func negativeMeansAndNeverMinusZero() {
        #expect(two.meanAndHalfWidth(-0.4321, 0.0567) == "-0.432 ± 0.057")
        #expect(two.meanAndHalfWidth(-0.0001, 0.011) == "0.000 ± 0.011")
        #expect(two.meanAndHalfWidth(-3.0, 40.0) == "-3 ± 40")
        #expect(two.meanAndHalfWidth(-1.0, 400.0) == "0 ± 400")
    }

    @Test func hugeAndTinyMagnitudesShareOnePowerOfTen() {
        #expect(two.meanAndHalfWidth(3.4e11, 1.2e10) == "(3.40 ± 0.12)e11")
        #expect(two.meanAndHalfWidth(1.2e-7, 3.4e-8) == "(1.20 ± 0.34)e-7")
        #expect(two.meanAndHalfWidth(-5.5e20, 2.0e19) == "(-5.50 ± 0.20)e20")
        // Iteration-sized values stay plain.
        #expect(two.meanAndHalfWidth(25_600, 1_234) == "25600 ± 1200")
        #expect(two.meanAndHalfWidth(123_456, 12_345) == "123000 ± 12000")
        // A mean far larger than its spread keeps every digit the spread allows.
        #expect(two.meanAndHalfWidth(1e7, 3) == "10000000.0 ± 3.0")
    }

    @Test func valuesThatAreNotFiniteArePrintedAsTheyAre() {
        #expect(two.meanAndHalfWidth(.infinity, 0.1) == "inf ± 0.1")
        #expect(two.meanAndHalfWidth(1.5, .nan) == "1.5 ± nan")
        #expect(two.meanAndHalfWidth(.nan, .infinity) == "nan ± inf")
        #expect(two.centerAndInterval(1, low: -.infinity, high: 2) == "1 [-inf, 2]")
    }

    @Test func intervalsRoundTheirBoundsAtTheDecimalPlaceOfHalfTheirWidth() {
        #expect(two.centerAndInterval(1.3134, low: 1.2712, high: 1.3556) == "1.313 [1.271, 1.356]")
        #expect(two.centerAndInterval(0.5, low: 0.5, high: 0.5) == "0.5 [0.5, 0.5]")
        #expect(two.centerAndInterval(7e12, low: 6.1e12, high: 7.9e12) == "(7.00 [6.10, 7.90])e12")
    }
}
