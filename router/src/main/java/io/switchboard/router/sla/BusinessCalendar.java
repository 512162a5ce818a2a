package io.switchboard.router.sla;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Working hours in one time zone: several windows per weekday, windows past midnight, holidays
 * and extra working days. Business time is real elapsed time (instants) inside working windows,
 * so a window on a DST change day is an hour shorter or longer, as the people working it live it.
 *
 * <p>A window belongs to the day it starts on: a holiday removes the windows starting that day
 * (a Saturday 22:00-02:00 window still runs into a Sunday holiday), an extra working day gets
 * {@link #extraDayWindows} (those of the first weekday from Monday on that has windows).
 * A window whose end is not after its start runs into the next day ("00:00"-"00:00" is the whole day).
 * Local times that fall into a DST gap move forward by the gap, as {@link ZonedDateTime#of} does.
 *
 * <p>Plain arithmetic: no clock, no I/O. {@link #ALWAYS} is 24/7.
 */
public final class BusinessCalendar {

    /** A working window in local time. */
    public record Window(LocalTime start, LocalTime end) {
        public Window {
            Objects.requireNonNull(start, "start");
            Objects.requireNonNull(end, "end");
        }

        boolean crossesMidnight() {
            return !end.isAfter(start);
        }
    }

    /** Round-the-clock calendar: business time is wall time. */
    public static final BusinessCalendar ALWAYS = new BusinessCalendar("24/7", ZoneId.of("UTC"), Map.of(), Set.of(), Set.of(), true);

    /** How far ahead {@link #plus} searches for working time before concluding there is none. */
    private static final int MAX_DAYS = 366 * 10;
    private static final int CHUNK_DAYS = 7;

    private final String name;
    private final ZoneId zone;
    private final Map<DayOfWeek, List<Window>> week;
    private final Set<LocalDate> holidays;
    private final Set<LocalDate> workingDays;
    private final boolean always;
    private final List<Window> extraDayWindows;

    private BusinessCalendar(String name, ZoneId zone, Map<DayOfWeek, List<Window>> week, Set<LocalDate> holidays,
                             Set<LocalDate> workingDays, boolean always) {
        this.name = name;
        this.zone = zone;
        EnumMap<DayOfWeek, List<Window>> copy = new EnumMap<>(DayOfWeek.class);
        week.forEach((d, ws) -> copy.put(d, List.copyOf(ws)));
        this.week = copy;
        this.holidays = Set.copyOf(holidays);
        this.workingDays = Set.copyOf(workingDays);
        this.always = always;
        List<Window> extra = List.of();
        for (DayOfWeek d : DayOfWeek.values()) {
            List<Window> ws = copy.getOrDefault(d, List.of());
            if (!ws.isEmpty()) {
                extra = ws;
                break;
            }
        }
        this.extraDayWindows = extra;
    }

    /**
     * @throws IllegalArgumentException when the calendar has no working time at all (every
     *                                  deadline would be infinitely far)
     */
    public static BusinessCalendar of(String name, ZoneId zone, Map<DayOfWeek, List<Window>> week, Set<LocalDate> holidays,
                                      Set<LocalDate> workingDays) {
        Objects.requireNonNull(zone, "zone");
        boolean anyWindow = week.values().stream().anyMatch(ws -> !ws.isEmpty());
        if (!anyWindow) {
            throw new IllegalArgumentException("calendar '" + name + "' has no working window in its week");
        }
        for (List<Window> ws : week.values()) {
            for (Window w : ws) {
                Objects.requireNonNull(w, "window");
            }
        }
        return new BusinessCalendar(name, zone, week, holidays, workingDays, false);
    }

    public String name() {
        return name;
    }

    public ZoneId zone() {
        return zone;
    }

    public boolean isAlways() {
        return always;
    }

    /** The windows starting on this local date. */
    List<Window> windowsOn(LocalDate date) {
        if (holidays.contains(date)) {
            return List.of();
        }
        if (workingDays.contains(date)) {
            List<Window> own = week.getOrDefault(date.getDayOfWeek(), List.of());
            return own.isEmpty() ? extraDayWindows : own;
        }
        return week.getOrDefault(date.getDayOfWeek(), List.of());
    }

    /** Working intervals starting on the given local dates (inclusive), as instants, sorted by start. */
    private List<Instant[]> intervals(LocalDate from, LocalDate to) {
        List<Instant[]> out = new ArrayList<>();
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
            for (Window w : windowsOn(d)) {
                Instant s = ZonedDateTime.of(d, w.start(), zone).toInstant();
                Instant e = ZonedDateTime.of(w.crossesMidnight() ? d.plusDays(1) : d, w.end(), zone).toInstant();
                if (e.isAfter(s)) {
                    out.add(new Instant[]{s, e});
                }
            }
        }
        out.sort(Comparator.comparing(i -> i[0]));
        return out;
    }

    /** Whether the instant lies inside working time. */
    public boolean isWorking(Instant t) {
        if (always) {
            return true;
        }
        LocalDate d = t.atZone(zone).toLocalDate();
        for (Instant[] i : intervals(d.minusDays(1), d)) {
            if (!t.isBefore(i[0]) && t.isBefore(i[1])) {
                return true;
            }
        }
        return false;
    }

    /**
     * The earliest instant at which {@code amount} of business time has passed since {@code start}.
     * A zero amount gives {@code start} itself.
     *
     * @throws IllegalArgumentException for a negative amount
     * @throws IllegalStateException    when no working time exists in the next ten years
     */
    public Instant plus(Instant start, Duration amount) {
        if (amount.isNegative()) {
            throw new IllegalArgumentException("negative business duration " + amount);
        }
        if (always || amount.isZero()) {
            return start.plus(amount);
        }
        Duration left = amount;
        Instant cursor = start;
        LocalDate day = start.atZone(zone).toLocalDate().minusDays(1);
        for (int scanned = 0; scanned < MAX_DAYS; scanned += CHUNK_DAYS, day = day.plusDays(CHUNK_DAYS)) {
            // Intervals start in nondecreasing order across chunks (each starts within its day), so a
            // cursor clipping each one to "after everything counted so far" merges overlaps exactly.
            for (Instant[] i : intervals(day, day.plusDays(CHUNK_DAYS - 1))) {
                Instant from = i[0].isAfter(cursor) ? i[0] : cursor;
                if (!i[1].isAfter(from)) {
                    continue;
                }
                Duration available = Duration.between(from, i[1]);
                if (available.compareTo(left) >= 0) {
                    return from.plus(left);
                }
                left = left.minus(available);
                cursor = i[1];
            }
        }
        throw new IllegalStateException("calendar '" + name + "' has no working time within " + MAX_DAYS + " days");
    }

    /** Business time between two instants (zero when {@code to} is not after {@code from}). */
    public Duration between(Instant from, Instant to) {
        if (!to.isAfter(from)) {
            return Duration.ZERO;
        }
        if (always) {
            return Duration.between(from, to);
        }
        Duration total = Duration.ZERO;
        Instant cursor = from;
        LocalDate first = from.atZone(zone).toLocalDate().minusDays(1);
        LocalDate last = to.atZone(zone).toLocalDate();
        for (LocalDate day = first; !day.isAfter(last); day = day.plusDays(CHUNK_DAYS)) {
            LocalDate end = day.plusDays(CHUNK_DAYS - 1).isAfter(last) ? last : day.plusDays(CHUNK_DAYS - 1);
            for (Instant[] i : intervals(day, end)) {
                Instant s = i[0].isAfter(cursor) ? i[0] : cursor;
                Instant e = i[1].isBefore(to) ? i[1] : to;
                if (e.isAfter(s)) {
                    total = total.plus(Duration.between(s, e));
                }
                if (i[1].isAfter(cursor)) {
                    cursor = i[1];
                }
            }
        }
        return total;
    }

    @Override
    public String toString() {
        return "BusinessCalendar[" + name + ", " + zone + "]";
    }
}
