package io.switchboard.router.sla;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Laws of business-time arithmetic, checked on randomly generated cases: calendars in zones with
 * DST history (several and overnight windows, holidays, extra working days), instants around the
 * 2014 Moscow and Berlin changes, and durations up to 30 days. Each case comes from a fixed seed
 * (shown in the test name), so a failure reproduces exactly. See ADR 0131 for why this is plain
 * JUnit rather than a property-testing library.
 */
class BusinessCalendarPropertiesTest {

    private static final List<String> ZONES = List.of("Europe/Moscow", "Europe/Berlin", "America/New_York",
            "Australia/Lord_Howe", "Asia/Kolkata", "UTC");
    private static final Instant FROM = Instant.parse("2014-10-01T00:00:00Z");

    /** One generated case. */
    record Case(long seed, BusinessCalendar cal, Instant a, Duration d1, Duration d2) {
        @Override
        public String toString() {
            return "seed " + seed + " " + cal.zone();
        }
    }

    static Stream<Case> cases() {
        return LongStream.range(0, 400).mapToObj(BusinessCalendarPropertiesTest::generate);
    }

    static Case generate(long seed) {
        Random r = new Random(seed);
        Map<DayOfWeek, List<BusinessCalendar.Window>> week = new EnumMap<>(DayOfWeek.class);
        for (DayOfWeek d : DayOfWeek.values()) {
            List<BusinessCalendar.Window> ws = new ArrayList<>();
            for (int i = r.nextInt(4); i > 0; i--) {
                int a = r.nextInt(48);
                int b = r.nextInt(48);
                ws.add(new BusinessCalendar.Window(LocalTime.of(a / 2, (a % 2) * 30), LocalTime.of(b / 2, (b % 2) * 30)));
            }
            week.put(d, ws);
        }
        if (week.values().stream().allMatch(List::isEmpty)) {
            week.put(DayOfWeek.WEDNESDAY, List.of(new BusinessCalendar.Window(LocalTime.of(10, 0), LocalTime.of(11, 0))));
        }
        Set<LocalDate> holidays = new HashSet<>();
        Set<LocalDate> extra = new HashSet<>();
        for (int i = r.nextInt(8); i > 0; i--) {
            holidays.add(LocalDate.of(2014, 10, 1).plusDays(r.nextInt(90)));
        }
        for (int i = r.nextInt(4); i > 0; i--) {
            extra.add(LocalDate.of(2014, 10, 1).plusDays(r.nextInt(90)));
        }
        holidays.removeAll(extra);
        BusinessCalendar cal = BusinessCalendar.of("random-" + seed, ZoneId.of(ZONES.get(r.nextInt(ZONES.size()))), week,
                holidays, extra);
        Instant a = FROM.plusSeconds((long) (r.nextDouble() * 120 * 24 * 3600));
        // small durations often (edges inside one window), large ones sometimes
        Duration d1 = Duration.ofSeconds(r.nextBoolean() ? r.nextInt(4 * 3600) : (long) (r.nextDouble() * 30 * 24 * 3600));
        Duration d2 = Duration.ofSeconds(r.nextInt(10) == 0 ? 0 : (long) (r.nextDouble() * 10 * 24 * 3600));
        return new Case(seed, cal, a, d1, d2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theBusinessTimeUpToADeadlineIsTheTarget(Case c) {
        Instant due = c.cal().plus(c.a(), c.d1());
        assertThat(due).isAfterOrEqualTo(c.a());
        assertThat(c.cal().between(c.a(), due)).isEqualTo(c.d1());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void deadlinesAddUp(Case c) {
        assertThat(c.cal().plus(c.cal().plus(c.a(), c.d1()), c.d2())).isEqualTo(c.cal().plus(c.a(), c.d1().plus(c.d2())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void businessTimeIsAdditiveAndNeverExceedsWallTime(Case c) {
        Instant b = c.a().plus(c.d1());
        Instant end = b.plus(c.d2());
        assertThat(c.cal().between(c.a(), b).plus(c.cal().between(b, end))).isEqualTo(c.cal().between(c.a(), end));
        assertThat(c.cal().between(c.a(), end)).isLessThanOrEqualTo(Duration.between(c.a(), end));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aDeadlineIsTheEndOfWorkedTime_orTheStartItself(Case c) {
        Instant due = c.cal().plus(c.a(), c.d1());
        if (c.d1().isZero()) {
            assertThat(due).isEqualTo(c.a());
        } else {
            assertThat(c.cal().isWorking(due.minusMillis(1))).as("the last moment before the deadline is worked").isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void roundTheClockIsWallTime(Case c) {
        assertThat(BusinessCalendar.ALWAYS.plus(c.a(), c.d1())).isEqualTo(c.a().plus(c.d1()));
        assertThat(BusinessCalendar.ALWAYS.between(c.a(), c.a().plus(c.d1()))).isEqualTo(c.d1());
    }
}
