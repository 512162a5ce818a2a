package io.switchboard.router.sla;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Laws of business-time arithmetic over random calendars (zones with DST history, several and
 * overnight windows, holidays, extra working days), random instants around DST changes and durations.
 */
class BusinessCalendarProperties {

    private static final List<String> ZONES = List.of("Europe/Moscow", "Europe/Berlin", "America/New_York",
            "Australia/Lord_Howe", "Asia/Kolkata", "UTC");

    @Provide
    Arbitrary<BusinessCalendar> calendars() {
        Arbitrary<BusinessCalendar.Window> window = Combinators.combine(
                Arbitraries.integers().between(0, 47), Arbitraries.integers().between(0, 47))
                .as((a, b) -> new BusinessCalendar.Window(LocalTime.of(a / 2, (a % 2) * 30), LocalTime.of(b / 2, (b % 2) * 30)));
        Arbitrary<List<BusinessCalendar.Window>> day = window.list().ofMinSize(0).ofMaxSize(3);
        Arbitrary<List<List<BusinessCalendar.Window>>> week = day.list().ofSize(7);
        Arbitrary<Set<LocalDate>> dates = Arbitraries.integers().between(0, 60)
                .map(n -> LocalDate.of(2014, 10, 1).plusDays(n)).set().ofMaxSize(8);
        return Combinators.combine(Arbitraries.of(ZONES), week, dates, dates).as((zone, days, holidays, extra) -> {
            Map<DayOfWeek, List<BusinessCalendar.Window>> map = new EnumMap<>(DayOfWeek.class);
            for (int i = 0; i < 7; i++) {
                map.put(DayOfWeek.of(i + 1), days.get(i));
            }
            if (map.values().stream().allMatch(List::isEmpty)) {
                map.put(DayOfWeek.WEDNESDAY, List.of(new BusinessCalendar.Window(LocalTime.of(10, 0), LocalTime.of(11, 0))));
            }
            Set<LocalDate> h = new HashSet<>(holidays);
            h.removeAll(extra);
            return BusinessCalendar.of("random", ZoneId.of(zone), map, h, extra);
        });
    }

    /** Instants in autumn 2014 (Moscow's last change, Berlin's and New York's fall-back) to spring 2015. */
    @Provide
    Arbitrary<Instant> instants() {
        Instant from = Instant.parse("2014-10-01T00:00:00Z");
        return Arbitraries.longs().between(0, 200L * 24 * 3600).map(s -> from.plusSeconds(s));
    }

    @Provide
    Arbitrary<Duration> durations() {
        return Arbitraries.longs().between(0, 30L * 24 * 3600).map(Duration::ofSeconds);
    }

    @Property(tries = 300)
    void theBusinessTimeUpToADeadlineIsTheTarget(@ForAll("calendars") BusinessCalendar cal, @ForAll("instants") Instant start,
                                                 @ForAll("durations") Duration target) {
        Instant due = cal.plus(start, target);
        assertThat(due).isAfterOrEqualTo(start);
        assertThat(cal.between(start, due)).isEqualTo(target);
    }

    @Property(tries = 300)
    void deadlinesAddUp(@ForAll("calendars") BusinessCalendar cal, @ForAll("instants") Instant start,
                        @ForAll("durations") Duration a, @ForAll("durations") Duration b) {
        assertThat(cal.plus(cal.plus(start, a), b)).isEqualTo(cal.plus(start, a.plus(b)));
    }

    @Property(tries = 300)
    void businessTimeIsAdditiveAndNeverExceedsWallTime(@ForAll("calendars") BusinessCalendar cal, @ForAll("instants") Instant a,
                                                       @ForAll("durations") Duration d1, @ForAll("durations") Duration d2) {
        Instant b = a.plus(d1);
        Instant c = b.plus(d2);
        assertThat(cal.between(a, b).plus(cal.between(b, c))).isEqualTo(cal.between(a, c));
        assertThat(cal.between(a, c)).isLessThanOrEqualTo(Duration.between(a, c));
    }

    @Property(tries = 300)
    void aDeadlineIsAtTheEndOfWorkingTime_orTheStartItself(@ForAll("calendars") BusinessCalendar cal,
                                                           @ForAll("instants") Instant start, @ForAll("durations") Duration target) {
        Instant due = cal.plus(start, target);
        if (!target.isZero()) {
            // the last second before the deadline was worked
            assertThat(cal.isWorking(due.minusMillis(1))).isTrue();
        } else {
            assertThat(due).isEqualTo(start);
        }
    }

    @Property(tries = 200)
    void roundTheClockCalendarsAreWallTime(@ForAll("instants") Instant start, @ForAll("durations") Duration d) {
        assertThat(BusinessCalendar.ALWAYS.plus(start, d)).isEqualTo(start.plus(d));
        assertThat(BusinessCalendar.ALWAYS.between(start, start.plus(d))).isEqualTo(d);
    }
}
