package io.switchboard.api.sla;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks an SLA configuration (the JSON of {@code PUT /api/admin/sla}) before it is stored, with
 * the same rules the router applies when it reads it (router {@code io.switchboard.router.sla.SlaConfig#parse};
 * keep both in step): calendars with a valid zone, {@code HH:mm} windows and at least one window,
 * ISO dates; policies with unique names, known calendars, known channels and priorities, positive
 * ISO-8601 targets, the last one without conditions.
 */
final class SlaConfigValidator {

    static final Set<String> PRIORITIES = Set.of("urgent", "high", "normal", "low");
    static final Set<String> CHANNELS = Set.of("email", "telegram", "vk", "facebook", "phone", "webform");
    static final Set<String> METRICS = Set.of("firstResponse", "nextResponse", "resolution");
    static final Set<String> CONDITIONS = Set.of("channels", "priorities", "accounts", "tags", "contactTags", "topics");

    /** @throws IllegalArgumentException with the reason */
    static void validate(Map<String, ?> json) {
        if (json == null) {
            throw new IllegalArgumentException("configuration must be a JSON object");
        }
        Set<String> calendars = new HashSet<>();
        for (Object c : list(json.get("calendars"), "calendars")) {
            Map<String, ?> cal = map(c, "calendars[]");
            String name = string(cal.get("name"), "calendar name");
            if (!calendars.add(name)) {
                throw new IllegalArgumentException("calendar '" + name + "' is defined twice");
            }
            String zone = string(cal.get("timezone"), "calendar '" + name + "' timezone");
            try {
                ZoneId.of(zone);
            } catch (DateTimeException e) {
                throw new IllegalArgumentException("calendar '" + name + "' has an unknown timezone: " + zone);
            }
            boolean anyWindow = false;
            for (Map.Entry<String, ?> day : map(cal.get("week"), "calendar '" + name + "' week").entrySet()) {
                try {
                    DayOfWeek.valueOf(day.getKey().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("calendar '" + name + "' week has unknown day '" + day.getKey() + "'");
                }
                for (Object w : list(day.getValue(), "calendar '" + name + "' week." + day.getKey())) {
                    List<Object> pair = list(w, "calendar '" + name + "' window");
                    if (pair.size() != 2) {
                        throw new IllegalArgumentException("calendar '" + name + "' " + day.getKey() + ": a window is [\"HH:mm\", \"HH:mm\"]");
                    }
                    time(pair.get(0), name);
                    time(pair.get(1), name);
                    anyWindow = true;
                }
            }
            if (!anyWindow) {
                throw new IllegalArgumentException("calendar '" + name + "' has no working window in its week");
            }
            dates(cal.get("holidays"), "calendar '" + name + "' holidays");
            dates(cal.get("workingDays"), "calendar '" + name + "' workingDays");
        }
        List<Object> policies = list(json.get("policies"), "policies");
        if (policies.isEmpty()) {
            throw new IllegalArgumentException("policies: at least one policy is required");
        }
        Set<String> names = new HashSet<>();
        boolean lastHasConditions = false;
        for (Object p : policies) {
            Map<String, ?> pol = map(p, "policies[]");
            String name = string(pol.get("name"), "policy name");
            if (!names.add(name)) {
                throw new IllegalArgumentException("policy '" + name + "' is defined twice");
            }
            Object calendar = pol.get("calendar");
            if (calendar != null && !calendars.contains(string(calendar, "policy '" + name + "' calendar"))) {
                throw new IllegalArgumentException("policy '" + name + "' uses unknown calendar '" + calendar + "'");
            }
            lastHasConditions = conditions(name, pol.get("conditions"));
            Map<String, ?> targets = map(pol.get("targets"), "policy '" + name + "' targets");
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("policy '" + name + "' has no targets");
            }
            for (Map.Entry<String, ?> e : targets.entrySet()) {
                if (!PRIORITIES.contains(e.getKey())) {
                    throw new IllegalArgumentException("policy '" + name + "' has targets for unknown priority '" + e.getKey()
                            + "' (one of " + new TreeSet<>(PRIORITIES) + ")");
                }
                for (Map.Entry<String, ?> t : map(e.getValue(), "policy '" + name + "' targets." + e.getKey()).entrySet()) {
                    if (!METRICS.contains(t.getKey())) {
                        throw new IllegalArgumentException("unknown SLA metric '" + t.getKey() + "' in policy '" + name + "'");
                    }
                    duration(t.getValue(), "policy '" + name + "' targets." + e.getKey() + "." + t.getKey());
                }
            }
            if (pol.get("snoozedPauses") != null && !(pol.get("snoozedPauses") instanceof Boolean)) {
                throw new IllegalArgumentException("policy '" + name + "' snoozedPauses must be true or false");
            }
        }
        if (lastHasConditions) {
            throw new IllegalArgumentException("the last policy must have no conditions, so every conversation has a policy");
        }
    }

    /** @return whether any condition is set */
    private static boolean conditions(String policy, Object raw) {
        if (raw == null) {
            return false;
        }
        boolean any = false;
        for (Map.Entry<String, ?> e : map(raw, "policy '" + policy + "' conditions").entrySet()) {
            if (!CONDITIONS.contains(e.getKey())) {
                throw new IllegalArgumentException("policy '" + policy + "' has unknown condition '" + e.getKey() + "' (one of "
                        + new TreeSet<>(CONDITIONS) + ")");
            }
            for (Object v : list(e.getValue(), "policy '" + policy + "' conditions." + e.getKey())) {
                String s = string(v, "policy '" + policy + "' conditions." + e.getKey());
                if (e.getKey().equals("channels") && !CHANNELS.contains(s)) {
                    throw new IllegalArgumentException("policy '" + policy + "' names unknown channel '" + s + "'");
                }
                if (e.getKey().equals("priorities") && !PRIORITIES.contains(s)) {
                    throw new IllegalArgumentException("policy '" + policy + "' names unknown priority '" + s + "'");
                }
                any = true;
            }
        }
        return any;
    }

    private static void time(Object raw, String calendar) {
        String s = string(raw, "calendar '" + calendar + "' window time");
        if (s.equals("24:00")) {
            return;
        }
        try {
            LocalTime.parse(s);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("calendar '" + calendar + "' has a bad time '" + s + "' (HH:mm)");
        }
    }

    private static void duration(Object raw, String where) {
        if (raw == null) {
            return;
        }
        Duration d;
        try {
            d = Duration.parse(string(raw, where));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(where + " is not an ISO-8601 duration: " + raw);
        }
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(where + " must be positive: " + raw);
        }
    }

    private static void dates(Object raw, String where) {
        for (Object o : list(raw, where)) {
            try {
                LocalDate.parse(string(o, where));
            } catch (DateTimeException e) {
                throw new IllegalArgumentException(where + " has a bad date '" + o + "' (YYYY-MM-DD)");
            }
        }
    }

    private static String string(Object raw, String where) {
        if (!(raw instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException(where + " must be a non-empty string");
        }
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(Object raw, String where) {
        if (raw == null) {
            return Map.of();
        }
        if (!(raw instanceof Map)) {
            throw new IllegalArgumentException(where + " must be an object");
        }
        return (Map<String, ?>) raw;
    }

    private static List<Object> list(Object raw, String where) {
        if (raw == null) {
            return List.of();
        }
        if (!(raw instanceof Collection<?> c)) {
            throw new IllegalArgumentException(where + " must be an array");
        }
        return new java.util.ArrayList<>(c);
    }

    private SlaConfigValidator() {
    }
}
