package io.switchboard.router.sla;

import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Fixed cases checked by hand: overnight windows, holidays, extra working days, DST in Moscow and Berlin. */
class BusinessCalendarTest {

    static final ZoneId MOSCOW = ZoneId.of("Europe/Moscow");
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    static BusinessCalendar.Window w(String from, String to) {
        return new BusinessCalendar.Window(LocalTime.parse(from), LocalTime.parse(to));
    }

    static Instant local(ZoneId zone, String dateTime) {
        return ZonedDateTime.of(LocalDateTime.parse(dateTime), zone).toInstant();
    }

    static BusinessCalendar everyDay(ZoneId zone, BusinessCalendar.Window... windows) {
        Map<DayOfWeek, List<BusinessCalendar.Window>> week = new java.util.EnumMap<>(DayOfWeek.class);
        for (DayOfWeek d : DayOfWeek.values()) {
            week.put(d, List.of(windows));
        }
        return BusinessCalendar.of("test", zone, week, Set.of(), Set.of());
    }

    /** Mon-Fri 09:00-13:00 and 14:00-18:00 in Moscow, 2026-12-31 a holiday, Sunday 2026-12-27 worked. */
    static final BusinessCalendar OFFICE = BusinessCalendar.of("office", MOSCOW, Map.of(
                    DayOfWeek.MONDAY, List.of(w("09:00", "13:00"), w("14:00", "18:00")),
                    DayOfWeek.TUESDAY, List.of(w("09:00", "13:00"), w("14:00", "18:00")),
                    DayOfWeek.WEDNESDAY, List.of(w("09:00", "13:00"), w("14:00", "18:00")),
                    DayOfWeek.THURSDAY, List.of(w("09:00", "13:00"), w("14:00", "18:00")),
                    DayOfWeek.FRIDAY, List.of(w("09:00", "13:00"), w("14:00", "18:00")),
                    DayOfWeek.SATURDAY, List.of(w("22:00", "02:00"))),
            Set.of(LocalDate.parse("2026-12-31")), Set.of(LocalDate.parse("2026-12-27")));

    @Test
    void aDeadlineSkipsTheLunchBreakAndTheNight() {
        // Monday 2026-12-14 12:30 + 1h: 30 min before lunch, 30 min after
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-14T12:30"), Duration.ofHours(1))).isEqualTo(local(MOSCOW, "2026-12-14T14:30"));
        // 17:00 + 2h: one hour today, one tomorrow from 09:00
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-14T17:00"), Duration.ofHours(2))).isEqualTo(local(MOSCOW, "2026-12-15T10:00"));
        // a message at night starts counting at 09:00
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-15T03:00"), Duration.ofMinutes(15))).isEqualTo(local(MOSCOW, "2026-12-15T09:15"));
        // exactly at the end of a window: the deadline is that instant, not the next window's start
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-14T12:00"), Duration.ofHours(1))).isEqualTo(local(MOSCOW, "2026-12-14T13:00"));
    }

    @Test
    void theSaturdayWindowRunsPastMidnightIntoSunday() {
        // Saturday 2026-12-19 23:00 + 2h: 1h until midnight, 1h on Sunday until 01:00... of 2h to 02:00
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-19T23:00"), Duration.ofHours(2))).isEqualTo(local(MOSCOW, "2026-12-20T01:00"));
        // Sunday 01:30 + 1h: 30 min left of the overnight window, then Monday 09:00-09:30
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-20T01:30"), Duration.ofHours(1))).isEqualTo(local(MOSCOW, "2026-12-21T09:30"));
        assertThat(OFFICE.isWorking(local(MOSCOW, "2026-12-20T01:59"))).isTrue();
        assertThat(OFFICE.isWorking(local(MOSCOW, "2026-12-20T02:00"))).isFalse();
        // the whole weekend is worth the 4 hours of the overnight window
        assertThat(OFFICE.between(local(MOSCOW, "2026-12-18T18:00"), local(MOSCOW, "2026-12-21T09:00"))).isEqualTo(Duration.ofHours(4));
    }

    @Test
    void holidaysAreSkipped_andAnExtraWorkingDayUsesMondaysWindows() {
        // Wednesday 2026-12-30 17:00 + 2h: 1h on the 30th, the 31st is a holiday, Friday 2027-01-01 09:00-10:00
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-30T17:00"), Duration.ofHours(2))).isEqualTo(local(MOSCOW, "2027-01-01T10:00"));
        // Sunday 2026-12-27 is a working day with Monday's hours: 8 hours, plus what is left of Saturday night (2h)
        assertThat(OFFICE.between(local(MOSCOW, "2026-12-27T00:00"), local(MOSCOW, "2026-12-28T00:00"))).isEqualTo(Duration.ofHours(10));
        assertThat(OFFICE.plus(local(MOSCOW, "2026-12-27T08:00"), Duration.ofHours(1))).isEqualTo(local(MOSCOW, "2026-12-27T10:00"));
    }

    @Test
    void moscow2011_springForwardWithoutReturn_makesTheNightWindowAnHourShorter() {
        BusinessCalendar nights = everyDay(MOSCOW, w("00:00", "06:00"));
        // 2011-03-27 02:00 MSK became 03:00 (UTC+4 for good): 00:00-06:00 lasted 5 real hours
        assertThat(nights.between(local(MOSCOW, "2011-03-27T00:00"), local(MOSCOW, "2011-03-27T12:00"))).isEqualTo(Duration.ofHours(5));
        assertThat(nights.plus(local(MOSCOW, "2011-03-27T01:00"), Duration.ofHours(2))).isEqualTo(local(MOSCOW, "2011-03-27T04:00"));
        // autumn 2011 had no change: a normal 6 hours on 2011-10-30
        assertThat(nights.between(local(MOSCOW, "2011-10-30T00:00"), local(MOSCOW, "2011-10-30T12:00"))).isEqualTo(Duration.ofHours(6));
    }

    @Test
    void moscow2014_fallBack_makesTheNightWindowAnHourLonger() {
        BusinessCalendar nights = everyDay(MOSCOW, w("00:00", "06:00"));
        // 2014-10-26 02:00 MSK (UTC+4) became 01:00 (UTC+3): 00:00-06:00 lasted 7 real hours
        assertThat(nights.between(local(MOSCOW, "2014-10-26T00:00"), local(MOSCOW, "2014-10-26T12:00"))).isEqualTo(Duration.ofHours(7));
        assertThat(nights.plus(Instant.parse("2014-10-25T20:00:00Z"), Duration.ofHours(7)))
                .isEqualTo(Instant.parse("2014-10-26T03:00:00Z")); // 06:00 UTC+3
    }

    @Test
    void berlinDst_bothWaysAndAnOvernightWindowAcrossTheChange() {
        BusinessCalendar nights = everyDay(BERLIN, w("22:00", "04:00"));
        // 2025-03-29 22:00 CET .. 2025-03-30 04:00 CEST: 5 real hours (02:00 -> 03:00)
        assertThat(nights.between(local(BERLIN, "2025-03-29T12:00"), local(BERLIN, "2025-03-30T12:00"))).isEqualTo(Duration.ofHours(5));
        // 2025-10-25 22:00 CEST .. 2025-10-26 04:00 CET: 7 real hours (03:00 -> 02:00)
        assertThat(nights.between(local(BERLIN, "2025-10-25T12:00"), local(BERLIN, "2025-10-26T12:00"))).isEqualTo(Duration.ofHours(7));
        assertThat(nights.plus(local(BERLIN, "2025-10-25T22:00"), Duration.ofHours(7))).isEqualTo(local(BERLIN, "2025-10-26T04:00"));
        // a window starting inside the spring gap (02:30 does not exist) starts at 03:30 CEST
        BusinessCalendar gap = everyDay(BERLIN, w("02:30", "05:00"));
        assertThat(gap.between(local(BERLIN, "2025-03-30T00:00"), local(BERLIN, "2025-03-30T12:00"))).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void aWholeDayWindowAndTheAlwaysCalendar() {
        BusinessCalendar allDay = everyDay(BERLIN, w("00:00", "00:00"));
        Instant t = Instant.parse("2025-06-01T10:15:00Z");
        assertThat(allDay.plus(t, Duration.ofHours(50))).isEqualTo(t.plus(Duration.ofHours(50)));
        assertThat(BusinessCalendar.ALWAYS.plus(t, Duration.ofMinutes(7))).isEqualTo(t.plusSeconds(420));
        assertThat(BusinessCalendar.ALWAYS.between(t, t.plusSeconds(99))).isEqualTo(Duration.ofSeconds(99));
    }

    @Test
    void aCalendarWithoutWorkingTimeIsRefused() {
        assertThatThrownBy(() -> BusinessCalendar.of("empty", BERLIN, Map.of(DayOfWeek.MONDAY, List.of()), Set.of(), Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no working window");
    }
}
