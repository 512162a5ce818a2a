package io.switchboard.router.sla;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SLA configuration in force: policies in order of evaluation (first match wins, the last one
 * without conditions) and the calendars they use. {@link #parse} reads the JSON shape of
 * {@code PUT /api/admin/sla} (INTERFACE.md) from plain maps and lists, refusing anything invalid
 * with the reason.
 *
 * @param version increases with every stored change; 0 is the built-in default from the environment
 */
public record SlaConfig(long version, List<SlaPolicy> policies) {

    static final Set<String> PRIORITIES = Set.of("urgent", "high", "normal", "low");
    static final Set<String> CHANNELS = Set.of("email", "telegram", "vk", "facebook", "phone", "webform");

    public SlaConfig {
        policies = List.copyOf(policies);
        if (policies.isEmpty()) {
            throw new IllegalArgumentException("at least one policy is required");
        }
    }

    /** The built-in configuration: one 24/7 policy named {@code default} with the given targets for every priority. */
    public static SlaConfig defaults(Duration firstResponse, Duration nextResponse, Duration resolution) {
        SlaPolicy.Targets t = new SlaPolicy.Targets(firstResponse, nextResponse, resolution);
        return new SlaConfig(0, List.of(new SlaPolicy("default", BusinessCalendar.ALWAYS, SlaPolicy.Conditions.NONE,
                Map.of(SlaPolicy.NORMAL, t), false)));
    }

    /** The first policy whose conditions match; the last policy has none, so there always is one. */
    public SlaPolicy policyFor(SlaSubject subject) {
        for (SlaPolicy p : policies) {
            if (p.matches(subject)) {
                return p;
            }
        }
        return policies.get(policies.size() - 1);
    }

    public SlaPolicy policy(String name) {
        for (SlaPolicy p : policies) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ parsing

    /** @throws IllegalArgumentException with the reason when the configuration is invalid */
    public static SlaConfig parse(long version, Map<String, ?> json) {
        if (json == null) {
            throw new IllegalArgumentException("configuration must be a JSON object");
        }
        Map<String, BusinessCalendar> calendars = new HashMap<>();
        for (Object c : list(json.get("calendars"), "calendars")) {
            Map<String, ?> cal = map(c, "calendars[]");
            String name = string(cal.get("name"), "calendar name");
            if (calendars.containsKey(name)) {
                throw new IllegalArgumentException("calendar '" + name + "' is defined twice");
            }
            calendars.put(name, calendar(name, cal));
        }
        List<Object> rawPolicies = list(json.get("policies"), "policies");
        if (rawPolicies.isEmpty()) {
            throw new IllegalArgumentException("policies: at least one policy is required");
        }
        List<SlaPolicy> policies = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Object p : rawPolicies) {
            Map<String, ?> pol = map(p, "policies[]");
            String name = string(pol.get("name"), "policy name");
            if (!names.add(name)) {
                throw new IllegalArgumentException("policy '" + name + "' is defined twice");
            }
            Object calName = pol.get("calendar");
            BusinessCalendar calendar = BusinessCalendar.ALWAYS;
            if (calName != null) {
                calendar = calendars.get(string(calName, "policy '" + name + "' calendar"));
                if (calendar == null) {
                    throw new IllegalArgumentException("policy '" + name + "' uses unknown calendar '" + calName + "'");
                }
            }
            SlaPolicy.Conditions conditions = conditions(name, pol.get("conditions"));
            Map<String, SlaPolicy.Targets> targets = new HashMap<>();
            Map<String, ?> rawTargets = map(pol.get("targets"), "policy '" + name + "' targets");
            for (Map.Entry<String, ?> e : rawTargets.entrySet()) {
                if (!PRIORITIES.contains(e.getKey())) {
                    throw new IllegalArgumentException("policy '" + name + "' has targets for unknown priority '" + e.getKey()
                            + "' (one of " + new java.util.TreeSet<>(PRIORITIES) + ")");
                }
                Map<String, ?> t = map(e.getValue(), "policy '" + name + "' targets." + e.getKey());
                for (String k : t.keySet()) {
                    SlaMetric.fromWire(k);
                }
                String where = "policy '" + name + "' targets." + e.getKey() + ".";
                targets.put(e.getKey(), new SlaPolicy.Targets(duration(t.get("firstResponse"), where + "firstResponse"),
                        duration(t.get("nextResponse"), where + "nextResponse"), duration(t.get("resolution"), where + "resolution")));
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("policy '" + name + "' has no targets");
            }
            boolean snoozedPauses = Boolean.TRUE.equals(pol.get("snoozedPauses"));
            policies.add(new SlaPolicy(name, calendar, conditions, targets, snoozedPauses));
        }
        if (!policies.get(policies.size() - 1).conditions().isEmpty()) {
            throw new IllegalArgumentException("the last policy ('" + policies.get(policies.size() - 1).name()
                    + "') must have no conditions, so every conversation has a policy");
        }
        return new SlaConfig(version, policies);
    }

    private static BusinessCalendar calendar(String name, Map<String, ?> cal) {
        ZoneId zone;
        try {
            zone = ZoneId.of(string(cal.get("timezone"), "calendar '" + name + "' timezone"));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("calendar '" + name + "' has an unknown timezone: " + cal.get("timezone"));
        }
        Map<DayOfWeek, List<BusinessCalendar.Window>> week = new EnumMap<>(DayOfWeek.class);
        for (Map.Entry<String, ?> day : map(cal.get("week"), "calendar '" + name + "' week").entrySet()) {
            DayOfWeek dow;
            try {
                dow = DayOfWeek.valueOf(day.getKey().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("calendar '" + name + "' week has unknown day '" + day.getKey() + "'");
            }
            List<BusinessCalendar.Window> windows = new ArrayList<>();
            for (Object w : list(day.getValue(), "calendar '" + name + "' week." + day.getKey())) {
                List<Object> pair = list(w, "calendar '" + name + "' window");
                if (pair.size() != 2) {
                    throw new IllegalArgumentException("calendar '" + name + "' " + day.getKey()
                            + ": a window is [\"HH:mm\", \"HH:mm\"]");
                }
                windows.add(new BusinessCalendar.Window(time(pair.get(0), name), time(pair.get(1), name)));
            }
            week.put(dow, windows);
        }
        Set<LocalDate> holidays = dates(cal.get("holidays"), "calendar '" + name + "' holidays");
        Set<LocalDate> workingDays = dates(cal.get("workingDays"), "calendar '" + name + "' workingDays");
        return BusinessCalendar.of(name, zone, week, holidays, workingDays);
    }

    private static SlaPolicy.Conditions conditions(String policy, Object raw) {
        if (raw == null) {
            return SlaPolicy.Conditions.NONE;
        }
        Map<String, ?> c = map(raw, "policy '" + policy + "' conditions");
        Set<String> known = Set.of("channels", "priorities", "accounts", "tags", "contactTags", "topics");
        for (String k : c.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("policy '" + policy + "' has unknown condition '" + k + "' (one of "
                        + new java.util.TreeSet<>(known) + ")");
            }
        }
        Set<String> channels = strings(c.get("channels"), "policy '" + policy + "' conditions.channels");
        for (String ch : channels) {
            if (!CHANNELS.contains(ch)) {
                throw new IllegalArgumentException("policy '" + policy + "' names unknown channel '" + ch + "'");
            }
        }
        Set<String> priorities = strings(c.get("priorities"), "policy '" + policy + "' conditions.priorities");
        for (String p : priorities) {
            if (!PRIORITIES.contains(p)) {
                throw new IllegalArgumentException("policy '" + policy + "' names unknown priority '" + p + "'");
            }
        }
        return new SlaPolicy.Conditions(channels, priorities, strings(c.get("accounts"), "conditions.accounts"),
                tags(c.get("tags"), "conditions.tags"), strings(c.get("topics"), "conditions.topics"),
                tags(c.get("contactTags"), "conditions.contactTags"));
    }

    /**
     * Tag values as agents' tags are stored (trimmed, inner spaces collapsed, lower case: inbox-api's Tags), so that
     * a condition written {@code "VIP"} matches the stored {@code vip}.
     */
    private static Set<String> tags(Object raw, String where) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : strings(raw, where)) {
            out.add(s.trim().replaceAll("\\s+", " ").toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    private static LocalTime time(Object raw, String calendar) {
        String s = string(raw, "calendar '" + calendar + "' window time");
        if (s.equals("24:00")) {
            return LocalTime.MIDNIGHT;
        }
        try {
            return LocalTime.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("calendar '" + calendar + "' has a bad time '" + s + "' (HH:mm)");
        }
    }

    private static Duration duration(Object raw, String where) {
        if (raw == null) {
            return null;
        }
        Duration d;
        try {
            d = Duration.parse(string(raw, where));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(where + " is not an ISO-8601 duration: " + raw);
        }
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(where + " must be positive: " + raw);
        }
        return d;
    }

    private static Set<LocalDate> dates(Object raw, String where) {
        Set<LocalDate> out = new HashSet<>();
        if (raw == null) {
            return out;
        }
        for (Object o : list(raw, where)) {
            try {
                out.add(LocalDate.parse(string(o, where)));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(where + " has a bad date '" + o + "' (YYYY-MM-DD)");
            }
        }
        return out;
    }

    private static Set<String> strings(Object raw, String where) {
        Set<String> out = new LinkedHashSet<>();
        if (raw == null) {
            return out;
        }
        for (Object o : list(raw, where)) {
            out.add(string(o, where));
        }
        return out;
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
        return new ArrayList<>(c);
    }
}
